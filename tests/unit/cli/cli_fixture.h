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
    std::istringstream in(input_);
    Io io{out, err};
    io.poll_interval = absl::Milliseconds(1);
    io.out_is_tty = out_is_tty_;
    io.in = &in;
    io.in_is_tty = in_is_tty_;
    io.no_color = no_color_;
    io.progress_interval = progress_interval_;
    int code = ::de::cli::Run(args, io);
    return {code, out.str(), err.str()};
  }

  // What the Io of the next Cli() call says about the terminal, NO_COLOR and stdin.
  bool out_is_tty_ = false;
  bool in_is_tty_ = false;
  bool no_color_ = false;
  std::string input_;
  absl::Duration progress_interval_ = absl::Seconds(10);

  FakeService fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace de::cli
