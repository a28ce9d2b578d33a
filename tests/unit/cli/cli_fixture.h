// A gtest fixture that serves one fake gRPC service on a loopback port and runs dectl's
// cli::Run against it, capturing its exit code, stdout and stderr.
#pragma once

#include <stdlib.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/cli.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace de::cli {

template <typename FakeService>
class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("DE_TOKEN");
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override { server_->Shutdown(); }

  struct Result {
    int code;
    std::string out;
    std::string err;
  };
  Result Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", address_});
    std::ostringstream out, err;
    Io io{out, err};
    io.poll_interval = absl::Milliseconds(1);
    int code = ::de::cli::Run(args, io);
    return {code, out.str(), err.str()};
  }

  FakeService fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace de::cli
