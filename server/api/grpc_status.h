// absl::Status <-> grpc::Status at the API edge (the codes share numbering).
#pragma once
#include <grpcpp/support/status.h>
#include "absl/status/status.h"
namespace de::api {
inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}
}  // namespace de::api
