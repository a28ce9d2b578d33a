// The scheduler's Prometheus metrics (prefix de_, labels only dag task state run_type pool worker
// channel, never a run id). Fed by committed transition events (EventListener::OnCommitted), by
// the scheduler's timings and state samples (SchedulerObserver), and by the alert sender
// (AlertDelivered). Render() serializes the families in the Prometheus text format without any
// scheduler lock. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/sched/events.h"
#include "server/sched/observer.h"

namespace de::metrics {

class Metrics : public sched::EventListener, public sched::SchedulerObserver {
 public:
  Metrics();

  // sched::EventListener
  void OnCommitted(const std::vector<sched::Event>& events) override;
  // sched::SchedulerObserver
  void OnCommit(absl::Duration latency) override;
  void OnLoop(absl::Duration took) override;
  void OnSample(const sched::StateSample& sample) override;
  void OnHeartbeat(int64_t at_ms) override;

  // One alert delivery attempt ended: outcome is "delivered", "failed" (will retry) or
  // "dropped" (gave up). Exported as de_alert_deliveries_total{channel, state=outcome}.
  void AlertDelivered(const std::string& channel, const std::string& outcome);
  // Seeds de_dag_last_success_timestamp_seconds from the store at startup (dag -> ms).
  void SetLastSuccess(const std::map<std::string, int64_t>& dag_ms);

  // The text exposition of every family.
  std::string Render() const;
  // Every metric name this registry exports (for tests and the dashboard check).
  std::vector<std::string> Names() const;

 private:
  using Labels = std::map<std::string, std::string>;
  // Register a family and remember its header (constructor only).
  template <typename T>
  prometheus::Family<T>& Declare(prometheus::detail::Builder<T> builder, const char* name,
                                 const char* help, const char* type);
  prometheus::Family<prometheus::Counter>& NewCounter(const char* name, const char* help);
  prometheus::Family<prometheus::Histogram>& NewHistogram(const char* name, const char* help);
  prometheus::Family<prometheus::Gauge>& NewGauge(const char* name, const char* help);
  prometheus::Counter& CounterFor(prometheus::Family<prometheus::Counter>& f, const Labels& l)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  prometheus::Histogram& HistogramFor(prometheus::Family<prometheus::Histogram>& f, const Labels& l,
                                      const std::vector<double>& buckets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnTaskEvent(const sched::Event& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnRunEvent(const sched::Event& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets a labelled gauge family to `values`, zeroing label sets seen before but absent now.
  void SetGauges(prometheus::Family<prometheus::Gauge>& f, const std::map<Labels, double>& values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  // Every family's "# HELP/# TYPE" header: the library omits families that have no series yet,
  // but a scrape should list every name (dashboards and rules can be checked against it).
  std::vector<std::pair<std::string, std::string>> headers_;  // name -> header lines
  mutable absl::Mutex mu_;
  // Cached children by family and label values (Family::Add hashes every label each call).
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Histogram*> histograms_ ABSL_GUARDED_BY(mu_);
  std::map<const void*, std::map<Labels, prometheus::Gauge*>> gauges_ ABSL_GUARDED_BY(mu_);

  // Counters.
  prometheus::Family<prometheus::Counter>& runs_finished_;
  prometheus::Family<prometheus::Counter>& tasks_finished_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& lease_expiries_;
  prometheus::Family<prometheus::Counter>& deadline_misses_;
  prometheus::Family<prometheus::Counter>& wait_timeouts_;
  prometheus::Family<prometheus::Counter>& rows_in_;
  prometheus::Family<prometheus::Counter>& rows_out_;
  prometheus::Family<prometheus::Counter>& rows_rejected_;
  prometheus::Family<prometheus::Counter>& bytes_written_;
  prometheus::Family<prometheus::Counter>& alert_deliveries_;
  // Histograms.
  prometheus::Family<prometheus::Histogram>& scheduling_delay_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Histogram>& task_duration_;
  prometheus::Family<prometheus::Histogram>& run_duration_;
  prometheus::Family<prometheus::Histogram>& run_start_delay_;
  prometheus::Family<prometheus::Histogram>& commit_latency_;
  prometheus::Family<prometheus::Histogram>& loop_duration_;
  prometheus::Histogram* commit_latency_h_;
  prometheus::Histogram* loop_duration_h_;
  // Gauges.
  prometheus::Family<prometheus::Gauge>& runs_;
  prometheus::Family<prometheus::Gauge>& pool_tasks_;
  prometheus::Family<prometheus::Gauge>& pool_slots_open_;
  prometheus::Family<prometheus::Gauge>& pool_slots_used_;
  prometheus::Family<prometheus::Gauge>& pool_starving_;
  prometheus::Family<prometheus::Gauge>& workers_connected_;
  prometheus::Family<prometheus::Gauge>& worker_free_slots_;
  prometheus::Family<prometheus::Gauge>& heartbeat_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& next_run_;
  prometheus::Gauge* workers_connected_g_;
  prometheus::Gauge* heartbeat_g_;
};

}  // namespace de::metrics
