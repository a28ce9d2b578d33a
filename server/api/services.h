// gRPC services of de-scheduler: the operator API and the worker session stream. Thin adapters
// over sched::Scheduler; thread-safe (gRPC calls them from its thread pool).
#pragma once

#include <atomic>
#include <memory>

#include "absl/time/time.h"

#include "de/v1/operator.grpc.pb.h"
#include "de/v1/worker.grpc.pb.h"
#include "server/alerts/service.h"
#include "server/sched/scheduler.h"

namespace de::api {

class OperatorService final : public v1::Operator::Service {
 public:
  // `alerts` may be null (then the alert calls answer UNIMPLEMENTED).
  explicit OperatorService(sched::Scheduler* s, alerts::AlertService* alerts = nullptr)
      : s_(s), alerts_(alerts) {}
  grpc::Status ValidateDag(grpc::ServerContext*, const v1::ValidateDagRequest*,
                           v1::ValidateDagResponse*) override;
  grpc::Status SubmitDag(grpc::ServerContext*, const v1::SubmitDagRequest*,
                         v1::SubmitDagResponse*) override;
  grpc::Status ListDags(grpc::ServerContext*, const v1::ListDagsRequest*,
                        v1::ListDagsResponse*) override;
  grpc::Status GetDag(grpc::ServerContext*, const v1::GetDagRequest*, v1::Dag*) override;
  grpc::Status SetDagPaused(grpc::ServerContext*, const v1::SetDagPausedRequest*,
                            v1::DagSummary*) override;
  grpc::Status DeleteDag(grpc::ServerContext*, const v1::DeleteDagRequest*,
                         v1::DeleteDagResponse*) override;
  grpc::Status Trigger(grpc::ServerContext*, const v1::TriggerRequest*, v1::Run*) override;
  grpc::Status ListRuns(grpc::ServerContext*, const v1::ListRunsRequest*,
                        v1::ListRunsResponse*) override;
  grpc::Status GetRun(grpc::ServerContext*, const v1::GetRunRequest*, v1::Run*) override;
  grpc::Status CancelRun(grpc::ServerContext*, const v1::CancelRunRequest*, v1::Run*) override;
  grpc::Status GetTaskLog(grpc::ServerContext*, const v1::GetTaskLogRequest*,
                          v1::GetTaskLogResponse*) override;
  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                           v1::ListWorkersResponse*) override;
  grpc::Status ClearRun(grpc::ServerContext*, const v1::ClearRunRequest*, v1::Run*) override;
  grpc::Status CreateBackfill(grpc::ServerContext*, const v1::CreateBackfillRequest*,
                              v1::Backfill*) override;
  grpc::Status ListBackfills(grpc::ServerContext*, const v1::ListBackfillsRequest*,
                             v1::ListBackfillsResponse*) override;
  grpc::Status GetBackfill(grpc::ServerContext*, const v1::GetBackfillRequest*,
                           v1::Backfill*) override;
  grpc::Status CancelBackfill(grpc::ServerContext*, const v1::GetBackfillRequest*,
                              v1::Backfill*) override;
  grpc::Status ListAlerts(grpc::ServerContext*, const v1::ListAlertsRequest*,
                          v1::ListAlertsResponse*) override;
  grpc::Status TestAlert(grpc::ServerContext*, const v1::TestAlertRequest*,
                         v1::TestAlertResponse*) override;
  grpc::Status CleanHistory(grpc::ServerContext*, const v1::CleanHistoryRequest*,
                            v1::CleanHistoryResponse*) override;

 private:
  sched::Scheduler* s_;
  alerts::AlertService* alerts_;
};

class WorkerSessionService final : public v1::WorkerService::Service {
 public:
  // A session that sends no Register within `register_timeout` is cancelled, so a client that
  // opens streams and stays silent cannot pin the server's threads.
  WorkerSessionService(sched::Scheduler* s, absl::Duration register_timeout)
      : s_(s), register_timeout_(register_timeout) {}
  grpc::Status Session(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) override;

 private:
  sched::Scheduler* s_;
  const absl::Duration register_timeout_;
  std::atomic<uint64_t> next_session_{1};
};

}  // namespace de::api
