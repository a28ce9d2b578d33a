#include "server/metrics/metrics.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "prometheus/text_serializer.h"

namespace de::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Seconds: from 5 ms to about 6 hours (scheduling, runs, tasks).
const std::vector<double>& LongBuckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25, 0.5,
                                        1,     2.5,  5,     10,   30,   60,   120,
                                        300,   900,  1800,  3600, 7200, 21600};
  return b;
}
// Seconds: from 50 us to 1 s (commits, loop passes).
const std::vector<double>& ShortBuckets() {
  static const std::vector<double> b = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1};
  return b;
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::string Key(const void* family, const std::map<std::string, std::string>& labels) {
  std::string k = absl::StrCat(reinterpret_cast<uintptr_t>(family));
  for (const auto& [n, v] : labels) absl::StrAppend(&k, "\x1f", n, "=", v);
  return k;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      runs_finished_(NewCounter("de_runs_finished_total",
                                "DAG runs that finished, by final state and run type.")),
      tasks_finished_(NewCounter("de_task_instances_finished_total",
                                 "Task instances that reached a final state.")),
      retries_(NewCounter("de_task_retries_total",
                          "Attempts that failed or were lost and will be retried.")),
      lease_expiries_(NewCounter("de_lease_expiries_total",
                                 "Attempts lost because their worker stopped heartbeating.")),
      deadline_misses_(NewCounter("de_deadline_misses_total",
                                  "Runs (and tasks) that passed their deadline unfinished.")),
      wait_timeouts_(
          NewCounter("de_wait_timeouts_total", "Waiting runs that gave up on their wait_for.")),
      rows_in_(NewCounter("de_task_rows_in_total",
                          "Rows read by built-in tasks (successful attempts).")),
      rows_out_(NewCounter("de_task_rows_out_total",
                           "Rows written by built-in tasks (successful attempts).")),
      rows_rejected_(NewCounter("de_task_rows_rejected_total",
                                "Rows rejected by built-in tasks (successful attempts).")),
      bytes_written_(NewCounter("de_task_bytes_written_total",
                                "Bytes written by built-in tasks (successful attempts).")),
      alert_deliveries_(NewCounter("de_alert_deliveries_total",
                                   "Alert delivery attempts by channel and outcome (state: "
                                   "delivered, failed, dropped).")),
      scheduling_delay_(
          NewHistogram("de_task_scheduling_delay_seconds",
                       "From a task being ready (queued) to its dispatch to a worker.")),
      queue_wait_(NewHistogram("de_run_queue_wait_seconds",
                               "From a run's creation to its start (waits, max_active_runs).")),
      task_duration_(NewHistogram("de_task_duration_seconds",
                                  "Attempt duration, from dispatch to its final report.")),
      run_duration_(
          NewHistogram("de_run_duration_seconds", "Run duration, from its start to its end.")),
      run_start_delay_(NewHistogram("de_run_start_delay_seconds",
                                    "From the end of a run's data interval to its start.")),
      commit_latency_(NewHistogram("de_store_commit_seconds",
                                   "SQLite commit latency of scheduler transactions.")),
      loop_duration_(NewHistogram("de_scheduler_loop_seconds",
                                  "One scheduling step under the scheduler lock.")),
      commit_latency_h_(&commit_latency_.Add({}, ShortBuckets())),
      loop_duration_h_(&loop_duration_.Add({}, ShortBuckets())),
      runs_(NewGauge("de_runs", "Unfinished runs by DAG and state (waiting, queued, running).")),
      pool_tasks_(NewGauge("de_pool_tasks", "Task instances by pool and state (queued, running).")),
      pool_slots_open_(NewGauge("de_pool_slots_open", "Free slots of capped pools.")),
      pool_slots_used_(NewGauge("de_pool_slots_used", "Running attempts per pool.")),
      pool_starving_(NewGauge("de_pool_starving_tasks",
                              "Ready tasks that no slot can take now (pool full or no worker).")),
      workers_connected_(NewGauge("de_workers_connected", "Workers with an open session.")),
      worker_free_slots_(NewGauge("de_worker_free_slots", "Free slots per connected worker.")),
      heartbeat_(NewGauge("de_scheduler_heartbeat_timestamp_seconds",
                          "When the scheduler's timer thread last ran (Unix seconds).")),
      last_success_(NewGauge("de_dag_last_success_timestamp_seconds",
                             "When the DAG's latest successful run ended (Unix seconds).")),
      next_run_(NewGauge("de_dag_next_run_timestamp_seconds",
                         "When the DAG's next scheduled run is due (Unix seconds; 0: none).")),
      workers_connected_g_(&workers_connected_.Add({})),
      heartbeat_g_(&heartbeat_.Add({})) {}

template <typename T>
prometheus::Family<T>& Metrics::Declare(prometheus::detail::Builder<T> builder, const char* name,
                                        const char* help, const char* type) {
  headers_.emplace_back(
      name, absl::StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n"));
  return builder.Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Counter>& Metrics::NewCounter(const char* name, const char* help) {
  return Declare(BuildCounter(), name, help, "counter");
}
prometheus::Family<prometheus::Histogram>& Metrics::NewHistogram(const char* name,
                                                                 const char* help) {
  return Declare(BuildHistogram(), name, help, "histogram");
}
prometheus::Family<prometheus::Gauge>& Metrics::NewGauge(const char* name, const char* help) {
  return Declare(BuildGauge(), name, help, "gauge");
}

prometheus::Counter& Metrics::CounterFor(prometheus::Family<prometheus::Counter>& f,
                                         const Labels& l) {
  auto [it, inserted] = counters_.try_emplace(Key(&f, l), nullptr);
  if (inserted) it->second = &f.Add(l);
  return *it->second;
}

prometheus::Histogram& Metrics::HistogramFor(prometheus::Family<prometheus::Histogram>& f,
                                             const Labels& l, const std::vector<double>& buckets) {
  auto [it, inserted] = histograms_.try_emplace(Key(&f, l), nullptr);
  if (inserted) it->second = &f.Add(l, buckets);
  return *it->second;
}

void Metrics::OnCommitted(const std::vector<sched::Event>& events) {
  absl::MutexLock lock(&mu_);
  for (const auto& e : events) {
    if (e.task.empty()) {
      OnRunEvent(e);
    } else {
      OnTaskEvent(e);
    }
  }
}

void Metrics::OnRunEvent(const sched::Event& e) {
  using sched::EventKind;
  if (e.kind == EventKind::kDeadlineMiss) {
    CounterFor(deadline_misses_, {{"dag", e.dag}}).Increment();
    return;
  }
  if (e.kind == EventKind::kWaitTimeout) {
    CounterFor(wait_timeouts_, {{"dag", e.dag}}).Increment();
    return;
  }
  if (e.kind != EventKind::kRunState) return;
  auto timing = [&](const char* name) -> std::optional<int64_t> {
    auto it = e.timings_ms.find(name);
    if (it == e.timings_ms.end()) return std::nullopt;
    return it->second;
  };
  if (e.to_state == "running") {
    if (auto t = timing("queue_wait")) {
      HistogramFor(queue_wait_, {{"dag", e.dag}, {"run_type", e.run_type}}, LongBuckets())
          .Observe(Seconds(*t));
    }
    if (auto t = timing("start_delay")) {
      HistogramFor(run_start_delay_, {{"dag", e.dag}, {"run_type", e.run_type}}, LongBuckets())
          .Observe(Seconds(std::max<int64_t>(0, *t)));
    }
    return;
  }
  if (e.to_state == "success" || e.to_state == "failed" || e.to_state == "cancelled") {
    if (e.from_state.empty()) return;  // created finished: cannot happen, but not a finish
    CounterFor(runs_finished_, {{"dag", e.dag}, {"state", e.to_state}, {"run_type", e.run_type}})
        .Increment();
    if (auto t = timing("duration")) {
      HistogramFor(run_duration_, {{"dag", e.dag}, {"state", e.to_state}, {"run_type", e.run_type}},
                   LongBuckets())
          .Observe(Seconds(*t));
    }
    if (e.to_state == "success") {
      last_success_.Add({{"dag", e.dag}}).Set(Seconds(e.at_ms));
    }
  }
}

void Metrics::OnTaskEvent(const sched::Event& e) {
  using sched::EventKind;
  const Labels dag_task = {{"dag", e.dag}, {"task", e.task}};
  switch (e.kind) {
    case EventKind::kRetry:
      CounterFor(retries_, dag_task).Increment();
      break;
    case EventKind::kLeaseLost:
      CounterFor(lease_expiries_, dag_task).Increment();
      return;
    case EventKind::kDeadlineMiss:
      CounterFor(deadline_misses_, {{"dag", e.dag}}).Increment();
      return;
    default:
      break;
  }
  if (e.to_state == "running") {
    auto it = e.timings_ms.find("scheduling_delay");
    if (it != e.timings_ms.end()) {
      HistogramFor(scheduling_delay_, {{"dag", e.dag}, {"pool", e.pool}}, LongBuckets())
          .Observe(Seconds(it->second));
    }
    return;
  }
  if (auto it = e.timings_ms.find("duration"); it != e.timings_ms.end()) {
    const std::string state = e.kind == EventKind::kRetry ? "up_for_retry" : e.to_state;
    // By DAG, not task: a histogram per task of a 10,000-task fan-out would be 230,000 series.
    HistogramFor(task_duration_, {{"dag", e.dag}, {"state", state}}, LongBuckets())
        .Observe(Seconds(it->second));
  }
  static const std::set<std::string> kFinal = {"success", "failed", "upstream_failed", "skipped",
                                               "cancelled"};
  if (e.kind == EventKind::kTaskState && kFinal.count(e.to_state)) {
    CounterFor(tasks_finished_, {{"dag", e.dag}, {"task", e.task}, {"state", e.to_state}})
        .Increment();
  }
  if (e.to_state == "success" && !e.counters.empty()) {
    auto add = [&](prometheus::Family<prometheus::Counter>& f, const char* key)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      auto it = e.counters.find(key);
      if (it != e.counters.end() && it->second > 0) {
        CounterFor(f, dag_task).Increment(static_cast<double>(it->second));
      }
    };
    add(rows_in_, "rows_in");
    add(rows_out_, "rows_out");
    add(rows_rejected_, "rows_rejected");
    add(bytes_written_, "bytes");
  }
}

void Metrics::OnCommit(absl::Duration latency) {
  commit_latency_h_->Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::OnLoop(absl::Duration took) {
  loop_duration_h_->Observe(absl::ToDoubleSeconds(took));
}

void Metrics::OnHeartbeat(int64_t at_ms) { heartbeat_g_->Set(Seconds(at_ms)); }

void Metrics::SetGauges(prometheus::Family<prometheus::Gauge>& f,
                        const std::map<Labels, double>& values) {
  auto& seen = gauges_[&f];
  for (auto& [labels, g] : seen) {
    if (!values.count(labels)) g->Set(0);
  }
  for (const auto& [labels, v] : values) {
    auto [it, inserted] = seen.try_emplace(labels, nullptr);
    if (inserted) it->second = &f.Add(labels);
    it->second->Set(v);
  }
}

void Metrics::OnSample(const sched::StateSample& s) {
  absl::MutexLock lock(&mu_);
  std::map<Labels, double> v;
  for (const auto& [k, n] : s.runs) v[{{"dag", k.first}, {"state", k.second}}] = n;
  SetGauges(runs_, v);
  v.clear();
  for (const auto& [k, n] : s.pool_tasks) v[{{"pool", k.first}, {"state", k.second}}] = n;
  SetGauges(pool_tasks_, v);
  auto by = [](const char* label, const std::map<std::string, int>& m) {
    std::map<Labels, double> out;
    for (const auto& [k, n] : m) out[{{label, k}}] = n;
    return out;
  };
  SetGauges(pool_slots_open_, by("pool", s.pool_slots_open));
  SetGauges(pool_slots_used_, by("pool", s.pool_slots_used));
  SetGauges(pool_starving_, by("pool", s.pool_starving));
  SetGauges(worker_free_slots_, by("worker", s.worker_free_slots));
  workers_connected_g_->Set(s.workers_connected);
  v.clear();
  for (const auto& [dag, ms] : s.dag_next_run_ms) v[{{"dag", dag}}] = Seconds(ms);
  SetGauges(next_run_, v);
}

void Metrics::AlertDelivered(const std::string& channel, const std::string& outcome) {
  absl::MutexLock lock(&mu_);
  CounterFor(alert_deliveries_, {{"channel", channel}, {"state", outcome}}).Increment();
}

void Metrics::SetLastSuccess(const std::map<std::string, int64_t>& dag_ms) {
  for (const auto& [dag, ms] : dag_ms) last_success_.Add({{"dag", dag}}).Set(Seconds(ms));
}

std::string Metrics::Render() const {
  const std::vector<prometheus::MetricFamily> families = registry_->Collect();
  prometheus::TextSerializer serializer;
  std::string out = serializer.Serialize(families);
  std::set<std::string> present;
  for (const auto& f : families) present.insert(f.name);
  for (const auto& [name, header] : headers_) {
    if (!present.count(name)) out += header;
  }
  return out;
}

std::vector<std::string> Metrics::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, header] : headers_) out.push_back(name);
  return out;
}

}  // namespace de::metrics
