#include "cli/client.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/address_list.h"
#include "cli/cli.h"
#include "common/limits.h"

namespace de::cli {

std::string ReadAddressFile(const std::string& path) {
  std::ifstream in(path);
  std::string addr;
  if (!in || !std::getline(in, addr)) return "";
  while (!addr.empty() && std::isspace(static_cast<unsigned char>(addr.back()))) addr.pop_back();
  return addr;
}

Client::Client(const GlobalOptions& options)
    : options_(options), addresses_(common::SplitAddressList(options.server)) {
  Connect();
}

void Client::Reconnect() {
  std::string addr =
      options_.address_file.empty() ? "" : ReadAddressFile(options_.address_file);
  if (addr.empty() || addr == address()) return Connect();
  options_.server = addr;
  addresses_ = {addr};
  current_ = 0;
  Connect();
}

void Client::Connect() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  // Fail fast instead of retrying a refused connection for the whole deadline.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  // A follow (`trigger --wait`, `logs -f`) riding out a restart is back within a second of the
  // scheduler (gRPC's own backoff would grow to minutes between connection attempts).
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options_.tls_ca.empty()) {
    std::ifstream in(options_.tls_ca);
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    creds = grpc::SslCredentials(ssl);
  }
  channel_ = grpc::CreateCustomChannel(address(), creds, args);
  stub_ = de::v1::Operator::NewStub(channel_);
  auth_stub_ = de::v1::Auth::NewStub(channel_);
  vault_stub_ = de::v1::Vault::NewStub(channel_);
}

void Client::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
}

bool Client::IsUnreachable(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return true;
  // A deadline that ran out before a connection was ever made (e.g. a black-holed address).
  return status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
         channel_->GetState(false) != GRPC_CHANNEL_READY;
}

int Client::Report(const grpc::Status& status, std::ostream& err) {
  if (status.ok()) return kExitOk;
  if (IsUnreachable(status)) {
    err << "dectl: cannot reach de-scheduler at " << address() << ": "
        << status.error_message() << "\n";
    return kExitUnreachable;
  }
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      err << "dectl: no answer from de-scheduler at " << address() << " within "
          << absl::FormatDuration(options_.timeout) << " (--timeout)\n";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      err << "dectl: not authenticated (set --token or DE_TOKEN): " << status.error_message()
          << "\n";
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      err << "dectl: permission denied: " << status.error_message() << "\n";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      err << "dectl: de-scheduler at " << address()
          << " does not support this call: " << status.error_message() << "\n";
      break;
    default:
      err << "dectl: " << status.error_message() << "\n";
  }
  return kExitFailed;
}

}  // namespace de::cli
