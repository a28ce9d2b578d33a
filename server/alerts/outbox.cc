#include "server/alerts/outbox.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader.h"
#include "common/dag/template.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "server/alerts/rules.h"
#include "spdlog/spdlog.h"

namespace de::alerts {
namespace {

using Json = nlohmann::ordered_json;

// The channel's configuration as stored in the outbox (secrets left as ${ENV} references).
std::string Target(const dag::AlertSpec& rule, const std::vector<std::string>& argv) {
  Json t = Json::object();
  const std::string channel = rule.channel();
  if (channel == "webhook") {
    t["url"] = rule.webhook;
    t["headers"] = rule.headers;
  } else if (channel == "slack") {
    t["url"] = rule.slack;
  } else if (channel == "pagerduty") {
    t["routing_key"] = rule.pagerduty_routing_key;
    if (!rule.pagerduty_url.empty()) t["url"] = rule.pagerduty_url;
  } else {
    t["argv"] = argv;
  }
  return t.dump();
}

std::string LogPath(const std::string& logs, const std::string& run, const std::string& task,
                    int try_number) {
  return absl::StrCat(logs, "/", run, "/", task, "/", try_number, ".log");
}

}  // namespace

AlertOutbox::AlertOutbox(OutboxOptions options, const common::Clock* clock,
                         std::function<void()> wake)
    : options_(std::move(options)), clock_(clock), wake_(std::move(wake)) {}

absl::StatusOr<AlertOutbox::SpecPtr> AlertOutbox::Spec(store::Db* db, const std::string& dag_id,
                                                       int version) {
  if (version <= 0) {
    store::Stmt& s = db->Cached("SELECT latest_version FROM dags WHERE dag_id = ?");
    s.Bind(1, dag_id);
    store::ResetOnExit reset(s);
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("no DAG '", dag_id, "'"));
    version = static_cast<int>(s.Int(0));
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = specs_.find({dag_id, version});
    if (it != specs_.end()) return it->second;
  }
  store::Stmt& s = db->Cached("SELECT yaml, source FROM dag_versions WHERE dag_id = ? AND version = ?");
  s.Bind(1, dag_id).Bind(2, version);
  std::string yaml, source;
  {
    store::ResetOnExit reset(s);
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("no version ", version, " of DAG '", dag_id, "'"));
    }
    yaml = s.Text(0);
    source = s.Text(1);
  }
  dag::LoadResult r = dag::LoadDag(yaml, source);
  if (!r.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("DAG '", dag_id, "' version ", version,
                                                      " no longer loads: ",
                                                      r.errors[0].ToString()));
  }
  auto spec = std::make_shared<const dag::DagSpec>(std::move(*r.dag));
  absl::MutexLock lock(&mu_);
  specs_[{dag_id, version}] = spec;
  return spec;
}

absl::StatusOr<AlertPayload> AlertOutbox::Payload(const sched::Event& e, const std::string& event,
                                                  store::Db* db) {
  AlertPayload p;
  p.event = event;
  p.at_ms = e.at_ms != 0 ? e.at_ms : common::ToMillis(clock_->Now());
  p.dag = e.dag;
  p.dag_version = e.dag_version;
  p.run_id = e.run_id;
  p.run_type = e.run_type;
  p.task = e.task;
  p.attempt = e.try_number;
  p.state = e.to_state;
  p.logical_date_ms = e.logical_date_ms;
  p.interval_start_ms = e.interval_start_ms;
  p.interval_end_ms = e.interval_end_ms;
  p.deadline_ms = e.deadline_ms;
  p.reason = e.reason;
  if (!p.run_id.empty()) p.link = absl::StrCat(options_.link_base, "/runs/", p.run_id);
  if (!p.run_id.empty() && (p.run_type.empty() || p.interval_end_ms == 0 || p.dag_version == 0)) {
    store::Stmt& s = db->Cached(
        "SELECT run_type, logical_date, interval_start, interval_end, dag_version, state "
        "FROM runs WHERE run_id = ?");
    s.Bind(1, p.run_id);
    store::ResetOnExit reset(s);
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      p.run_type = s.Text(0);
      p.logical_date_ms = s.Int(1);
      p.interval_start_ms = s.Int(2);
      p.interval_end_ms = s.Int(3);
      p.dag_version = static_cast<int>(s.Int(4));
      if (p.state.empty() && p.task.empty()) p.state = s.Text(5);
    }
  }
  if (event == "failure" && p.task.empty()) {
    // Name the task that failed the run (the first to fail), with its error and log.
    store::Stmt& s = db->Cached(
        "SELECT task_id, try_number, error FROM task_instances WHERE run_id = ? AND "
        "state = 'failed' ORDER BY ended_at, task_id LIMIT 1");
    s.Bind(1, p.run_id);
    store::ResetOnExit reset(s);
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      p.task = s.Text(0);
      p.attempt = static_cast<int>(s.Int(1));
      if (p.reason.empty()) p.reason = s.Text(2);
    }
  }
  if (event == "task_failure") {
    // A mapped task fails once for all its instances: say which failed, quote the first's log.
    DE_ASSIGN_OR_RETURN(FailedInstances failed, FindFailedInstances(db, p.run_id, p.task));
    if (failed.count > 0) {
      const int more = failed.count - static_cast<int>(failed.first.size());
      absl::StrAppend(&p.reason, p.reason.empty() ? "" : "; ", "failed: ",
                      absl::StrJoin(failed.first, ", "),
                      more > 0 ? absl::StrCat(" and ", more, " more") : "");
      p.log_tail = ReadLogTail(LogPath(options_.logs_dir, p.run_id, failed.first_id,
                                       failed.first_try));
      return p;
    }
  }
  if (!p.task.empty() && p.attempt > 0 &&
      (event == "failure" || event == "task_failure" || event == "retry" ||
       event == "lease_lost")) {
    p.log_tail = ReadLogTail(LogPath(options_.logs_dir, p.run_id, p.task, p.attempt));
  }
  return p;
}

std::string AlertOutbox::RenderArg(const std::string& arg, const dag::DagSpec* spec,
                                   const AlertPayload& p) const {
  if (arg.find("{{") == std::string::npos) return arg;
  absl::TimeZone tz = absl::UTCTimeZone();
  std::map<std::string, std::string> params;
  if (spec != nullptr) {
    (void)absl::LoadTimeZone(spec->timezone, &tz);
    params = spec->params;
  }
  dag::TemplateContext ctx = dag::MakeTemplateContext(
      p.dag, p.run_id, p.task, p.attempt, absl::FromUnixMillis(p.logical_date_ms),
      absl::FromUnixMillis(p.interval_start_ms), absl::FromUnixMillis(p.interval_end_ms), tz,
      params);
  auto rendered = dag::RenderTemplate(arg, ctx);
  if (!rendered.ok()) {
    spdlog::warn("alert command argument of DAG {} not rendered: {}", p.dag,
                 std::string(rendered.status().message()));
    return arg;
  }
  return *rendered;
}

absl::StatusOr<std::vector<OutboxRow>> AlertOutbox::Enqueue(
    store::Db* db, const dag::DagSpec* spec, const dag::AlertSpec& rule, AlertPayload p,
    const std::vector<std::string>& resolve_runs) {
  const std::string channel = rule.channel();
  std::vector<OutboxRow> rows;
  auto add = [&](std::string body, std::vector<std::string> argv) -> absl::Status {
    OutboxRow row;
    row.delivery_id = p.delivery_id;
    row.dag_id = p.dag;
    row.run_id = p.run_id;
    row.task_id = p.task;
    row.event = p.event;
    row.channel = channel;
    row.target = Target(rule, argv);
    row.body = std::move(body);
    row.created_at = common::ToMillis(clock_->Now());
    row.next_attempt_at = row.created_at;
    DE_ASSIGN_OR_RETURN(row.id, InsertOutboxRow(db, row));
    rows.push_back(std::move(row));
    return absl::OkStatus();
  };
  p.delivery_id = NewDeliveryId();
  if (channel == "webhook") {
    DE_RETURN_IF_ERROR(add(WebhookBody(p), {}));
  } else if (channel == "slack") {
    DE_RETURN_IF_ERROR(add(SlackBody(p), {}));
  } else if (channel == "pagerduty") {
    const std::string action = PagerDutyAction(p.event);
    std::vector<std::string> runs = {p.run_id.empty() ? "test-" + p.delivery_id : p.run_id};
    if (p.event == "recovered") runs = resolve_runs;
    for (size_t i = 0; i < runs.size(); ++i) {
      if (i > 0) p.delivery_id = NewDeliveryId();
      DE_RETURN_IF_ERROR(add(PagerDutyBody(p, action, PagerDutyDedupKey(p.dag, runs[i]),
                                           rule.pagerduty_routing_key),
                             {}));
    }
  } else {
    std::vector<std::string> argv;
    for (const auto& a : rule.command) argv.push_back(RenderArg(a, spec, p));
    DE_RETURN_IF_ERROR(add(WebhookBody(p), std::move(argv)));
  }
  return rows;
}

absl::Status AlertOutbox::OnEvent(const sched::Event& e, store::Db* db) {
  std::vector<std::string> events = AlertEventsOf(e);
  if (events.empty()) return absl::OkStatus();
  SpecPtr spec;
  if (auto s = Spec(db, e.dag, e.dag_version); s.ok()) {
    spec = *s;
  } else {
    spdlog::warn("alerts for DAG {}: {} (only the scheduler-wide alerts apply)", e.dag,
                 std::string(s.status().message()));
  }
  std::vector<const dag::AlertSpec*> rules;
  if (spec) {
    for (const auto& a : spec->alerts) rules.push_back(&a);
  }
  for (const auto& a : options_.defaults) rules.push_back(&a);
  if (rules.empty()) return absl::OkStatus();

  std::vector<std::string> resolve_runs;
  if (events.front() == "success") {
    bool wants_recovered = false;
    for (const auto* r : rules) wants_recovered = wants_recovered || Subscribed(*r, "recovered");
    if (wants_recovered) {
      DE_ASSIGN_OR_RETURN(resolve_runs, FailedRunsSinceLastSuccess(db, e.dag, e.run_id));
      if (!resolve_runs.empty()) events.push_back("recovered");
    }
  }
  for (const auto& event : events) {
    std::optional<AlertPayload> payload;
    for (const auto* rule : rules) {
      if (!Subscribed(*rule, event)) continue;
      if (!payload) {
        DE_ASSIGN_OR_RETURN(payload, Payload(e, event, db));
        if (event == "recovered") payload->previous_run_id = resolve_runs.front();
      }
      DE_ASSIGN_OR_RETURN(auto rows, Enqueue(db, spec.get(), *rule, *payload, resolve_runs));
      for (const auto& r : rows) {
        spdlog::info("alert {} queued: dag={} run={} task={} channel={} delivery={}", r.event,
                     r.dag_id, r.run_id, r.task_id, r.channel, r.delivery_id);
      }
      absl::MutexLock lock(&mu_);
      inserted_ = inserted_ || !rows.empty();
    }
  }
  return absl::OkStatus();
}

void AlertOutbox::OnCommitted(const std::vector<sched::Event>& events) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    std::swap(wake, inserted_);
  }
  if (wake && wake_) wake_();
}

absl::StatusOr<std::vector<OutboxRow>> AlertOutbox::EnqueueTest(const std::string& dag_id,
                                                                store::Db* db) {
  store::Transaction tx(db);
  DE_RETURN_IF_ERROR(tx.status());
  DE_ASSIGN_OR_RETURN(SpecPtr spec, Spec(db, dag_id, 0));
  std::vector<const dag::AlertSpec*> rules;
  for (const auto& a : spec->alerts) rules.push_back(&a);
  for (const auto& a : options_.defaults) rules.push_back(&a);
  if (rules.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DAG '", dag_id, "' has no alert hooks (and de-scheduler has no --alerts-file)"));
  }
  AlertPayload p;
  p.event = "test";
  p.at_ms = common::ToMillis(clock_->Now());
  p.dag = dag_id;
  p.dag_version = 0;
  {
    store::Stmt& s = db->Cached("SELECT latest_version FROM dags WHERE dag_id = ?");
    s.Bind(1, dag_id);
    store::ResetOnExit reset(s);
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) p.dag_version = static_cast<int>(s.Int(0));
  }
  std::vector<OutboxRow> all;
  for (const auto* rule : rules) {
    DE_ASSIGN_OR_RETURN(auto rows, Enqueue(db, spec.get(), *rule, p, {}));
    for (auto& r : rows) all.push_back(std::move(r));
  }
  DE_RETURN_IF_ERROR(tx.Commit());
  if (wake_) wake_();
  return all;
}

}  // namespace de::alerts
