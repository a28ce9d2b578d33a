// The read half of the HTTP API and the route table (actions: api_actions.cc).
#include "server/http/api_routes.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/version.h"
#include "server/http/api_json.h"

namespace de::http {
namespace {

// The integer query parameter `name` in [lo, hi], `fallback` when absent.
absl::StatusOr<int> IntParam(const Request& req, const std::string& name, int fallback, int lo,
                             int hi) {
  const std::string v = req.Query(name);
  if (v.empty()) return fallback;
  int n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < lo || n > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameter ", name, "='", v, "' is not an integer in [", lo, ", ",
                     hi, "]"));
  }
  return n;
}

bool BoolParam(const Request& req, const std::string& name) {
  const std::string v = req.Query(name);
  return v == "1" || v == "true" || v == "yes";
}

constexpr int kRecentRuns = 20;   // runs per DAG on the DAG list

}  // namespace

Api::Api(sched::Scheduler* scheduler, alerts::AlertService* alerts, auth::AuditLog* audit,
         const std::string& db_path)
    : s_(scheduler),
      alerts_(alerts),
      audit_(audit),
      reads_(db_path),
      started_at_ms_(absl::ToUnixMillis(absl::Now())) {}

void Api::Register(HttpServer* server) {
  // An answer goes out once what it reports is on disk (store/wal_sync.h).
  auto durable = [this](Response r) {
    absl::Status st = s_->CommitsDurable();
    return st.ok() ? r : JsonError(st);
  };
  auto get = [&](const std::string& pattern, Response (Api::*fn)(const Request&)) {
    server->Handle("GET", pattern,
                   [this, fn, durable](const Request& r) { return durable((this->*fn)(r)); });
  };
  // Actions: refused before anything runs unless the request passes the CSRF check.
  auto post = [&](const std::string& pattern, std::function<Response(const Request&)> fn) {
    server->Handle("POST", pattern, [fn = std::move(fn), durable](const Request& r) {
      if (absl::Status st = CheckCsrf(r); !st.ok()) return JsonError(st);
      return durable(fn(r));
    });
  };
  get("/api/v1/health", &Api::Health);
  get("/api/v1/dags", &Api::Dags);
  get("/api/v1/dags/([^/]+)", &Api::Dag);
  get("/api/v1/dags/([^/]+)/grid", &Api::Grid);
  get("/api/v1/runs", &Api::Runs);
  get("/api/v1/runs/([^/]+)", &Api::Run);
  get("/api/v1/runs/([^/]+)/tasks/([^/]+)/logs", &Api::Log);
  get("/api/v1/workers", &Api::Workers);
  get("/api/v1/backfills", &Api::Backfills);
  get("/api/v1/backfills/([^/]+)", &Api::Backfill);
  get("/api/v1/alerts", &Api::Alerts);
  post("/api/v1/dags/([^/]+)/trigger", [this](const Request& r) { return Trigger(r); });
  post("/api/v1/dags/([^/]+)/pause", [this](const Request& r) { return SetPaused(r, true); });
  post("/api/v1/dags/([^/]+)/unpause", [this](const Request& r) { return SetPaused(r, false); });
  post("/api/v1/runs/([^/]+)/cancel", [this](const Request& r) { return CancelRun(r); });
  post("/api/v1/runs/([^/]+)/clear", [this](const Request& r) { return ClearRun(r); });
  post("/api/v1/backfills/([^/]+)/cancel", [this](const Request& r) { return CancelBackfill(r); });
  auto not_found = [](const Request& r) {
    return JsonError(absl::NotFoundError(
        absl::StrCat("no API endpoint ", r.method, " ", r.path, " (see README, HTTP API)")));
  };
  server->Handle("GET", "/api/.*", not_found);
  server->Handle("POST", "/api/.*", not_found);
}

Response Api::Health(const Request&) {
  v1::Health h;
  h.set_version(common::Version());
  h.set_started_at_ms(started_at_ms_);
  h.set_now_ms(absl::ToUnixMillis(absl::Now()));
  auto workers = s_->ListWorkers();
  if (!workers.ok()) return JsonError(workers.status());
  for (const auto& w : workers->workers()) {
    if (w.state() != "connected") continue;
    h.set_workers_connected(h.workers_connected() + 1);
    h.set_slots(h.slots() + w.slots());
    h.set_busy(h.busy() + w.busy());
  }
  auto counts = reads_.CountActive();
  if (!counts.ok()) return JsonError(counts.status());
  for (const auto& [k, v] : counts->runs_by_state) (*h.mutable_runs_by_state())[k] = v;
  for (const auto& [k, v] : counts->tasks_by_state) (*h.mutable_tasks_by_state())[k] = v;
  return JsonMessage(h);
}

Response Api::Dags(const Request&) {
  auto dags = s_->ListDags();
  if (!dags.ok()) return JsonError(dags.status());
  auto recent = reads_.RecentRuns(kRecentRuns);
  if (!recent.ok()) return JsonError(recent.status());
  v1::ListDagOverviewsResponse out;
  for (const auto& d : dags->dags()) {
    v1::DagOverview* o = out.add_dags();
    *o->mutable_summary() = d;
    auto it = recent->find(d.dag_id());
    if (it == recent->end()) continue;
    for (const auto& r : it->second.runs) *o->add_recent_runs() = r;
    o->set_last_success_at_ms(it->second.last_success_at);
  }
  return JsonMessage(out);
}

Response Api::Dag(const Request& req) {
  auto version = IntParam(req, "version", 0, 0, 1 << 30);
  if (!version.ok()) return JsonError(version.status());
  return JsonReply(s_->GetDag(req.captures[0], *version));
}

Response Api::Runs(const Request& req) {
  const std::string dag = req.Query("dag"), state = req.Query("state");
  auto limit = IntParam(req, "limit", 50, 1, 1000);
  if (!limit.ok()) return JsonError(limit.status());
  if (!BoolParam(req, "tasks")) return JsonReply(s_->ListRuns(dag, state, *limit));
  if (dag.empty()) {
    return JsonError(absl::InvalidArgumentError("tasks=1 needs dag=DAG (the grid of one DAG)"));
  }
  // The grid: task instances of every run from one snapshot, without the scheduling lock; only
  // the (few) waiting runs ask the scheduler what they wait for.
  auto runs = reads_.RunsWithTasks(dag, state, *limit);
  if (!runs.ok()) return JsonError(runs.status());
  v1::ListRunsResponse out;
  for (auto& r : *runs) {
    AddWaitingOn(&r);
    *out.add_runs() = std::move(r);
  }
  return JsonMessage(out);
}

void Api::AddWaitingOn(v1::Run* r) {
  if (r->state() != "waiting") return;
  auto full = s_->GetRun(r->run_id());
  if (full.ok()) *r->mutable_waiting_on() = full->waiting_on();
}

Response Api::Grid(const Request& req) {
  auto limit = IntParam(req, "limit", 25, 1, 1000);
  if (!limit.ok()) return JsonError(limit.status());
  auto dag = s_->GetDag(req.captures[0], 0);
  if (!dag.ok()) return JsonError(dag.status());
  std::vector<std::string> order;
  order.reserve(dag->tasks_size());
  for (const auto& t : dag->tasks()) order.push_back(t.task_id());
  auto grid = reads_.Grid(req.captures[0], req.Query("state"), *limit, order,
                          absl::ToUnixMillis(absl::Now()));
  if (!grid.ok()) return JsonError(grid.status());
  for (auto& col : *grid->mutable_columns()) AddWaitingOn(col.mutable_run());
  return JsonMessage(*grid);
}

Response Api::Run(const Request& req) { return JsonReply(s_->GetRun(req.captures[0])); }

Response Api::Log(const Request& req) {
  v1::GetTaskLogRequest lr;
  lr.set_run_id(req.captures[0]);
  lr.set_task_id(req.captures[1]);
  auto try_number = IntParam(req, "try", 0, 0, 1 << 20);
  if (!try_number.ok()) return JsonError(try_number.status());
  lr.set_try_number(*try_number);
  const std::string offset = req.Query("offset");
  int64_t off = 0;
  if (!offset.empty() && (!absl::SimpleAtoi(offset, &off) || off < 0)) {
    return JsonError(absl::InvalidArgumentError(
        absl::StrCat("query parameter offset='", offset, "' is not a byte offset")));
  }
  lr.set_offset(off);
  auto max = IntParam(req, "max_bytes", 0, 0, 1 << 20);
  if (!max.ok()) return JsonError(max.status());
  lr.set_max_bytes(*max);
  return JsonReply(s_->GetTaskLog(lr));
}

Response Api::Workers(const Request&) { return JsonReply(s_->ListWorkers()); }

Response Api::Backfills(const Request& req) { return JsonReply(s_->ListBackfills(req.Query("dag"))); }

Response Api::Backfill(const Request& req) { return JsonReply(s_->GetBackfill(req.captures[0])); }

Response Api::Alerts(const Request& req) {
  if (alerts_ == nullptr) return JsonError(absl::UnimplementedError("alerts are off"));
  v1::ListAlertsRequest ar;
  ar.set_dag_id(req.Query("dag"));
  ar.set_failed_only(BoolParam(req, "failed_only"));
  auto limit = IntParam(req, "limit", 100, 1, 1000);
  if (!limit.ok()) return JsonError(limit.status());
  ar.set_limit(*limit);
  return JsonReply(alerts_->ListAlerts(ar));
}

}  // namespace de::http
