#include "server/http/api_json.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace de::http {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

namespace {
Response Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}
}  // namespace

Response JsonMessage(const google::protobuf::Message& msg) {
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(msg, &out);
  if (!st.ok()) return JsonError(absl::InternalError(st.message().ToString()));
  return Json(200, std::move(out));
}

Response JsonError(const absl::Status& status) {
  nlohmann::json doc = {{"error",
                         {{"code", absl::StatusCodeToString(status.code())},
                          {"message", std::string(status.message())}}}};
  // Replace, not throw, on bytes that are not UTF-8 (a message may quote user input).
  return Json(HttpStatusFor(status.code()),
              doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

absl::Status ParseJsonBody(const Request& req, google::protobuf::Message* msg) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return absl::OkStatus();
  auto st = google::protobuf::util::JsonStringToMessage(req.body, msg);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the request body is not a valid ",
                                                   msg->GetDescriptor()->full_name(),
                                                   " in JSON: ", st.message().ToString()));
  }
  return absl::OkStatus();
}

}  // namespace de::http
