// The JSON API under /api/v1/ (README "HTTP API"): reads and actions over the same Scheduler
// calls the gRPC operator API makes (bodies are its messages in protobuf's JSON mapping), plus
// the page's reads from the WAL snapshot (store::ReadQueries). Actions are POSTs that must carry
// `X-De-Csrf: 1` and a JSON content type (a cross-site form can send neither) and, when an
// Origin header is present, come from the same origin; each is recorded in the audit trail like
// its gRPC twin (auth::AuditRecord: same method name, arguments and outcome).
// Thread-safe; the scheduler, alert service and audit log are not owned and must outlive the
// listener.
#pragma once

#include <memory>
#include <string>

#include "server/alerts/service.h"
#include "server/auth/audit_log.h"
#include "server/http/http_server.h"
#include "server/sched/scheduler.h"
#include "server/store/read_queries.h"

namespace de::http {

class Api {
 public:
  // `alerts` may be null (then /api/v1/alerts answers UNIMPLEMENTED). `db_path` is the
  // scheduler's database (read through a connection of its own).
  Api(sched::Scheduler* scheduler, alerts::AlertService* alerts, auth::AuditLog* audit,
      const std::string& db_path);

  // Adds every /api/v1/ route (and a JSON 404 for other /api/ paths) to `server`.
  void Register(HttpServer* server);

 private:
  Response Health(const Request& req);
  Response Dags(const Request& req);
  Response Dag(const Request& req);
  Response Runs(const Request& req);
  Response Grid(const Request& req);
  Response Run(const Request& req);
  Response Log(const Request& req);
  Response Workers(const Request& req);
  Response Backfills(const Request& req);
  Response Backfill(const Request& req);
  Response Alerts(const Request& req);

  Response Trigger(const Request& req);
  Response SetPaused(const Request& req, bool paused);
  Response CancelRun(const Request& req);
  Response ClearRun(const Request& req);
  Response CancelBackfill(const Request& req);

  // Sets what a waiting run waits for (asks the scheduler; other runs are left alone).
  void AddWaitingOn(v1::Run* r);

  sched::Scheduler* s_;
  alerts::AlertService* alerts_;
  auth::AuditLog* audit_;
  store::ReadQueries reads_;
  const int64_t started_at_ms_;
};

// Refuses an action request that a cross-site page could have sent: PERMISSION_DENIED unless it
// has `X-De-Csrf: 1`, a JSON content type, and (if present) an Origin naming the Host.
absl::Status CheckCsrf(const Request& req);

}  // namespace de::http
