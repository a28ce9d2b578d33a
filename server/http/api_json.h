// The JSON side of the HTTP API: protobuf messages in protobuf's JSON mapping (the gRPC operator
// API's messages are the bodies, one source of truth for the fields), errors as
// {"error": {"code": "NOT_FOUND", "message": "..."}} with the matching HTTP status.
#pragma once

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/http/http_server.h"

namespace de::http {

// The HTTP status of an error code (NOT_FOUND 404, INVALID_ARGUMENT 400, FAILED_PRECONDITION
// 409, PERMISSION_DENIED 403, UNAUTHENTICATED 401, UNIMPLEMENTED 501, UNAVAILABLE 503, ...).
int HttpStatusFor(absl::StatusCode code);
// `msg` as JSON (200).
Response JsonMessage(const google::protobuf::Message& msg);
// `status` (not OK) as the JSON error body with its HTTP status.
Response JsonError(const absl::Status& status);

template <typename T>
Response JsonReply(const absl::StatusOr<T>& r) {
  return r.ok() ? JsonMessage(*r) : JsonError(r.status());
}

// Parses the request body (JSON of `msg`'s type; an empty body is the empty message). Unknown
// fields and bad JSON are an INVALID_ARGUMENT error naming the message type.
absl::Status ParseJsonBody(const Request& req, google::protobuf::Message* msg);

}  // namespace de::http
