// The alert outbox: a scheduler event listener that turns events into alert_outbox rows, written
// in the same transaction as the transition (so an alert is never lost nor sent for a transition
// that rolled back). Sending is AlertSender's job; this class only writes rows and wakes it.
// Rules come from the DAG version of the run (its `alerts:`) plus scheduler-wide defaults
// (de-scheduler --alerts-file). Thread-safe (its own mutex guards the DAG cache); it never
// blocks on the network.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/dag/dag.h"
#include "server/alerts/outbox_store.h"
#include "server/alerts/payload.h"
#include "server/sched/events.h"

namespace de::alerts {

struct OutboxOptions {
  std::string logs_dir = "./de-home/logs";         // task logs: LOGS/RUN/TASK/TRY.log
  std::string link_base = "http://127.0.0.1:9464";  // link = link_base + "/runs/" + run id
  std::vector<dag::AlertSpec> defaults;             // apply to every DAG (--alerts-file)
};

class AlertOutbox : public sched::EventListener {
 public:
  // `wake` is called (outside any transaction) after rows were committed; may be empty.
  AlertOutbox(OutboxOptions options, const common::Clock* clock, std::function<void()> wake);

  absl::Status OnEvent(const sched::Event& e, store::Db* db) override;
  void OnCommitted(const std::vector<sched::Event>& events) override;

  // `dectl alerts test DAG`: one `test` delivery through every hook of the DAG's latest version
  // (whatever their `on:`) and the defaults, in its own transaction on `db`. Returns the rows
  // written; NotFound for an unknown DAG, FailedPrecondition when it has no hooks.
  absl::StatusOr<std::vector<OutboxRow>> EnqueueTest(const std::string& dag_id, store::Db* db);

 private:
  using SpecPtr = std::shared_ptr<const dag::DagSpec>;
  // The DAG version's spec (version 0: the latest), cached.
  absl::StatusOr<SpecPtr> Spec(store::Db* db, const std::string& dag_id, int version);
  // The payload of `event` for run event `e`, completed from the store where the event is terse.
  absl::StatusOr<AlertPayload> Payload(const sched::Event& e, const std::string& event,
                                       store::Db* db);
  // Writes the rows of one rule for `p` (one per PagerDuty incident to resolve on recovered).
  absl::StatusOr<std::vector<OutboxRow>> Enqueue(store::Db* db, const dag::DagSpec* spec,
                                                 const dag::AlertSpec& rule, AlertPayload p,
                                                 const std::vector<std::string>& resolve_runs);
  std::string RenderArg(const std::string& arg, const dag::DagSpec* spec,
                        const AlertPayload& p) const;

  const OutboxOptions options_;
  const common::Clock* clock_;
  const std::function<void()> wake_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, SpecPtr> specs_ ABSL_GUARDED_BY(mu_);
  bool inserted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace de::alerts
