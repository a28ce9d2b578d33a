// The action half of the HTTP API (POST): trigger, pause/unpause, cancel and clear runs, cancel
// backfills; each the same Scheduler call as its gRPC twin, behind the CSRF check, recorded in
// the audit trail by the same auth::AuditRecord as the gRPC interceptor's.
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/auth/audit_args.h"
#include "server/auth/audit_record.h"
#include "server/http/api_json.h"
#include "server/http/api_routes.h"

namespace de::http {
namespace {

// Runs `change`, the Scheduler call of the gRPC method `method` whose request is `args`, with
// its audit row (the caller and peer of `req`), and answers its result.
template <typename Change>
Response Audited(auth::AuditLog* log, const Request& req, const char* method,
                 const google::protobuf::Message& args, Change change) {
  auth::AuditRecord record(log, req.caller, req.caller_role, req.peer, method, args);
  auto result = change();
  record.Finish(result.status(), result.ok() ? auth::DagIdOf(*result) : "");
  return JsonReply(result);
}

}  // namespace

absl::Status CheckCsrf(const Request& req) {
  if (req.Header("X-De-Csrf") != "1") {
    return absl::PermissionDeniedError(
        "actions need the header X-De-Csrf: 1 (refused as a possible cross-site request)");
  }
  const std::string type = absl::AsciiStrToLower(req.Header("Content-Type"));
  if (!absl::StartsWith(type, "application/json")) {
    return absl::PermissionDeniedError(
        absl::StrCat("actions need Content-Type: application/json (got '", type, "')"));
  }
  const std::string origin = req.Header("Origin");
  if (!origin.empty()) {
    const std::string host = req.Header("Host");
    if (origin != "http://" + host && origin != "https://" + host) {
      return absl::PermissionDeniedError(
          absl::StrCat("actions must come from this server's own page (Origin ", origin,
                       " is not ", host, ")"));
    }
  }
  return absl::OkStatus();
}

Response Api::Trigger(const Request& req) {
  v1::TriggerRequest tr;
  if (absl::Status st = ParseJsonBody(req, &tr); !st.ok()) return JsonError(st);
  const std::string& dag = req.captures[0];
  if (!tr.dag_id().empty() && tr.dag_id() != dag) {
    return JsonError(absl::InvalidArgumentError(
        absl::StrCat("body names DAG '", tr.dag_id(), "' but the path names '", dag, "'")));
  }
  tr.set_dag_id(dag);
  std::optional<absl::Time> date;
  if (tr.logical_date_ms() != 0) date = absl::FromUnixMillis(tr.logical_date_ms());
  std::map<std::string, std::string> conf(tr.conf().begin(), tr.conf().end());
  return Audited(audit_, req, "Trigger", tr, [&] { return s_->Trigger(dag, date, conf); });
}

Response Api::SetPaused(const Request& req, bool paused) {
  v1::SetDagPausedRequest pr;
  pr.set_dag_id(req.captures[0]);
  pr.set_paused(paused);
  return Audited(audit_, req, "SetDagPaused", pr,
                 [&] { return s_->SetPaused(pr.dag_id(), pr.paused()); });
}

Response Api::CancelRun(const Request& req) {
  v1::CancelRunRequest cr;
  cr.set_run_id(req.captures[0]);
  return Audited(audit_, req, "CancelRun", cr, [&] { return s_->CancelRun(cr.run_id()); });
}

Response Api::ClearRun(const Request& req) {
  v1::ClearRunRequest cr;
  if (absl::Status st = ParseJsonBody(req, &cr); !st.ok()) return JsonError(st);
  if (!cr.run_id().empty() && cr.run_id() != req.captures[0]) {
    return JsonError(absl::InvalidArgumentError(absl::StrCat(
        "body names run '", cr.run_id(), "' but the path names '", req.captures[0], "'")));
  }
  cr.set_run_id(req.captures[0]);
  return Audited(audit_, req, "ClearRun", cr, [&] { return s_->ClearRun(cr); });
}

Response Api::CancelBackfill(const Request& req) {
  v1::GetBackfillRequest br;
  br.set_backfill_id(req.captures[0]);
  return Audited(audit_, req, "CancelBackfill", br,
                 [&] { return s_->CancelBackfill(br.backfill_id()); });
}

}  // namespace de::http
