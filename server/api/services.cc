#include "server/api/services.h"

#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/api/grpc_status.h"
#include "spdlog/spdlog.h"

namespace de::api {
namespace {

// Copies a StatusOr's value into `out` or converts its error.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> r, T* out) {
  if (!r.ok()) return ToGrpc(r.status());
  *out = std::move(*r);
  return grpc::Status::OK;
}

// The same for an answer from the scheduler: it goes out once what it reports is on disk (every
// commit before it, the call's own included; a read may have seen any of them).
template <typename T>
grpc::Status Reply(sched::Scheduler* s, absl::StatusOr<T> r, T* out) {
  if (absl::Status durable = s->CommitsDurable(); !durable.ok()) return ToGrpc(durable);
  return Reply(std::move(r), out);
}

// Outbound queue of one worker session; the session's handler thread drains it onto the stream.
// A message goes out only once every commit made before it was queued is on disk (an assignment,
// a result's ack: the worker acts on them as on committed facts).
class SessionChannel : public sched::WorkerChannel {
 public:
  explicit SessionChannel(sched::Scheduler* s) : s_(s) {}
  void Send(const v1::SchedulerMessage& msg) override {
    absl::MutexLock lock(&mu_);
    if (!closed_) queue_.push_back({msg, s_->CommitSeq()});
  }
  void Close() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // Blocks until a message is available and durable (returns it) or the channel is closed
  // (returns false).
  bool Pop(v1::SchedulerMessage* out) {
    uint64_t seq = 0;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (closed_) return false;
      *out = std::move(queue_.front().msg);
      seq = queue_.front().seq;
      queue_.pop_front();
    }
    return s_->AwaitDurable(seq);
  }

 private:
  struct Queued {
    v1::SchedulerMessage msg;
    uint64_t seq;   // the newest commit when it was queued
  };
  sched::Scheduler* const s_;
  absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

std::optional<absl::Time> OptionalTime(int64_t ms) {
  if (ms == 0) return std::nullopt;
  return absl::FromUnixMillis(ms);
}

}  // namespace

grpc::Status OperatorService::ValidateDag(grpc::ServerContext*, const v1::ValidateDagRequest* req,
                                          v1::ValidateDagResponse* resp) {
  *resp = s_->ValidateDag(req->yaml(), req->source().empty() ? "<request>" : req->source());
  return grpc::Status::OK;
}
grpc::Status OperatorService::SubmitDag(grpc::ServerContext*, const v1::SubmitDagRequest* req,
                                        v1::SubmitDagResponse* resp) {
  return Reply(s_, s_->SubmitDag(req->yaml(), req->source().empty() ? "<request>" : req->source()),
               resp);
}
grpc::Status OperatorService::ListDags(grpc::ServerContext*, const v1::ListDagsRequest*,
                                       v1::ListDagsResponse* resp) {
  return Reply(s_, s_->ListDags(), resp);
}
grpc::Status OperatorService::GetDag(grpc::ServerContext*, const v1::GetDagRequest* req,
                                     v1::Dag* resp) {
  return Reply(s_, s_->GetDag(req->dag_id(), req->version()), resp);
}
grpc::Status OperatorService::SetDagPaused(grpc::ServerContext*,
                                           const v1::SetDagPausedRequest* req,
                                           v1::DagSummary* resp) {
  return Reply(s_, s_->SetPaused(req->dag_id(), req->paused()), resp);
}
grpc::Status OperatorService::DeleteDag(grpc::ServerContext*, const v1::DeleteDagRequest* req,
                                        v1::DeleteDagResponse* resp) {
  return Reply(s_, s_->DeleteDag(req->dag_id()), resp);
}
grpc::Status OperatorService::Trigger(grpc::ServerContext*, const v1::TriggerRequest* req,
                                      v1::Run* resp) {
  std::map<std::string, std::string> conf(req->conf().begin(), req->conf().end());
  return Reply(s_, s_->Trigger(req->dag_id(), OptionalTime(req->logical_date_ms()), conf), resp);
}
grpc::Status OperatorService::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* req,
                                       v1::ListRunsResponse* resp) {
  return Reply(s_, s_->ListRuns(req->dag_id(), req->state(), req->limit()), resp);
}
grpc::Status OperatorService::GetRun(grpc::ServerContext*, const v1::GetRunRequest* req,
                                     v1::Run* resp) {
  return Reply(s_, s_->GetRun(req->run_id()), resp);
}
grpc::Status OperatorService::CancelRun(grpc::ServerContext*, const v1::CancelRunRequest* req,
                                        v1::Run* resp) {
  return Reply(s_, s_->CancelRun(req->run_id()), resp);
}
grpc::Status OperatorService::GetTaskLog(grpc::ServerContext*, const v1::GetTaskLogRequest* req,
                                         v1::GetTaskLogResponse* resp) {
  return Reply(s_, s_->GetTaskLog(*req), resp);
}
grpc::Status OperatorService::ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                                          v1::ListWorkersResponse* resp) {
  return Reply(s_, s_->ListWorkers(), resp);
}

grpc::Status OperatorService::ClearRun(grpc::ServerContext*, const v1::ClearRunRequest* req,
                                       v1::Run* resp) {
  return Reply(s_, s_->ClearRun(*req), resp);
}
grpc::Status OperatorService::CreateBackfill(grpc::ServerContext*,
                                             const v1::CreateBackfillRequest* req,
                                             v1::Backfill* resp) {
  return Reply(s_, s_->CreateBackfill(*req), resp);
}
grpc::Status OperatorService::ListBackfills(grpc::ServerContext*,
                                            const v1::ListBackfillsRequest* req,
                                            v1::ListBackfillsResponse* resp) {
  return Reply(s_, s_->ListBackfills(req->dag_id()), resp);
}
grpc::Status OperatorService::GetBackfill(grpc::ServerContext*, const v1::GetBackfillRequest* req,
                                          v1::Backfill* resp) {
  return Reply(s_, s_->GetBackfill(req->backfill_id()), resp);
}
grpc::Status OperatorService::CancelBackfill(grpc::ServerContext*,
                                             const v1::GetBackfillRequest* req,
                                             v1::Backfill* resp) {
  return Reply(s_, s_->CancelBackfill(req->backfill_id()), resp);
}

grpc::Status OperatorService::ListAlerts(grpc::ServerContext*, const v1::ListAlertsRequest* req,
                                         v1::ListAlertsResponse* resp) {
  if (alerts_ == nullptr) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "alerts are off");
  return Reply(alerts_->ListAlerts(*req), resp);
}

grpc::Status OperatorService::TestAlert(grpc::ServerContext*, const v1::TestAlertRequest* req,
                                        v1::TestAlertResponse* resp) {
  if (alerts_ == nullptr) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "alerts are off");
  return Reply(alerts_->TestAlert(*req), resp);
}

grpc::Status OperatorService::CleanHistory(grpc::ServerContext*,
                                           const v1::CleanHistoryRequest* req,
                                           v1::CleanHistoryResponse* resp) {
  return Reply(s_, s_->CleanHistory(*req), resp);
}

grpc::Status WorkerSessionService::Session(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) {
  v1::WorkerMessage first;
  bool got_first = false;
  {
    absl::Notification read_done;
    std::thread watchdog([&] {
      if (!read_done.WaitForNotificationWithTimeout(register_timeout_)) ctx->TryCancel();
    });
    got_first = stream->Read(&first);
    read_done.Notify();
    watchdog.join();
  }
  if (!got_first) {
    if (ctx->IsCancelled()) {
      spdlog::warn("worker session from {} sent no Register within {}; closed", ctx->peer(),
                   absl::FormatDuration(register_timeout_));
    }
    return grpc::Status::OK;
  }
  if (!first.has_register_()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of a worker session must be Register");
  }
  const std::string name = first.register_().name();
  const uint64_t session = next_session_++;
  auto channel = std::make_shared<SessionChannel>(s_);
  auto ack = s_->RegisterWorker(first.register_(), channel, session);
  if (!ack.ok()) return ToGrpc(ack.status());

  std::thread reader([&] {
    v1::WorkerMessage m;
    while (stream->Read(&m)) s_->OnWorkerMessage(name, session, m);
    channel->Close();
  });
  v1::SchedulerMessage out;
  while (channel->Pop(&out)) {
    if (!stream->Write(out)) break;
  }
  channel->Close();
  ctx->TryCancel();   // unblocks the reader if the worker is still connected
  reader.join();
  s_->OnWorkerDisconnected(name, session);
  return grpc::Status::OK;
}

}  // namespace de::api
