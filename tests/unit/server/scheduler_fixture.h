// The scheduler test fixture, shared by the scheduler's unit tests: a FakeClock, recording
// WorkerChannels, ProcessTimers() after moving the clock, and a real SQLite file in a temporary
// DE_HOME. Reads of persisted state go through a separate Store connection, so they also prove
// the transition was committed. Header-only.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sched/scheduler.h"
#include "server/store/store.h"
#include "tests/unit/server/test_util.h"

namespace de::sched {
namespace {

using ::de::testing_util::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Records what the scheduler sends to one worker session.
class FakeChannel : public WorkerChannel {
 public:
  void Send(const v1::SchedulerMessage& msg) override { sent.push_back(msg); }
  void Close() override { ++closed; }

  // Assignments sent since the previous call.
  std::vector<v1::Assignment> TakeAssignments() {
    std::vector<v1::Assignment> out;
    for (; assign_cursor_ < sent.size(); ++assign_cursor_) {
      if (sent[assign_cursor_].has_assign()) out.push_back(sent[assign_cursor_].assign());
    }
    return out;
  }
  // Cancels sent since the previous call.
  std::vector<v1::Cancel> TakeCancels() {
    std::vector<v1::Cancel> out;
    for (; cancel_cursor_ < sent.size(); ++cancel_cursor_) {
      if (sent[cancel_cursor_].has_cancel()) out.push_back(sent[cancel_cursor_].cancel());
    }
    return out;
  }

  std::vector<v1::SchedulerMessage> sent;
  int closed = 0;

 private:
  size_t assign_cursor_ = 0;
  size_t cancel_cursor_ = 0;
};

std::vector<std::string> TaskIds(const std::vector<v1::Assignment>& as) {
  std::vector<std::string> out;
  for (const auto& a : as) out.push_back(a.task_id());
  return out;
}

const v1::Assignment* FindAssignment(const std::vector<v1::Assignment>& as,
                                     const std::string& task) {
  for (const auto& a : as) {
    if (a.task_id() == task) return &a;
  }
  ADD_FAILURE() << "no assignment for task " << task;
  return nullptr;
}

constexpr char kDiamond[] = R"(
dag: diamond
params: { who: nobody }
tasks:
  - id: a
    type: noop
  - id: b
    type: shell
    needs: [a]
    with: { command: [echo, "b of {{ ds }}"] }
  - id: c
    type: noop
    needs: [a]
  - id: d
    type: noop
    needs: [b, c]
)";

constexpr char kSingle[] = R"(
dag: single
tasks:
  - id: only
    type: noop
)";

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() : start_(absl::FromUnixSeconds(1'704'067'200)), clock_(start_) {}

  void SetUp() override { sched_ = NewScheduler(); }

  std::string DbPath() const { return dir_.File("de.db"); }

  SchedulerOptions Options() const {
    SchedulerOptions o;
    o.logs_dir = dir_.path() + "/logs";
    o.lease = absl::Seconds(10);
    o.heartbeat = absl::Seconds(2);
    o.timeout_grace = absl::Seconds(15);
    o.max_lost = 3;
    return o;
  }

  std::unique_ptr<Scheduler> NewScheduler() {
    auto store = store::Store::Open(DbPath());
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::make_unique<Scheduler>(std::move(*store), &clock_, Options());
  }

  // A fresh connection to the database (sees only committed state).
  std::unique_ptr<store::Store> View() {
    auto store = store::Store::Open(DbPath());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Opens a new session for `name`; the previous one (if any) is replaced.
  absl::StatusOr<v1::RegisterAck> Connect(const std::string& name, int slots = 1,
                                          std::vector<std::string> pools = {},
                                          std::vector<int64_t> running = {}) {
    v1::Register reg;
    reg.set_name(name);
    reg.set_slots(slots);
    for (const auto& p : pools) reg.add_pools(p);
    reg.set_version("test");
    for (int64_t id : running) reg.add_running_attempt_ids(id);
    auto channel = std::make_shared<FakeChannel>();
    const uint64_t session = ++next_session_;
    auto ack = sched_->RegisterWorker(reg, channel, session);
    if (ack.ok()) workers_[name] = {channel, session};
    return ack;
  }
  FakeChannel& Channel(const std::string& name) { return *workers_.at(name).channel; }
  uint64_t Session(const std::string& name) { return workers_.at(name).session; }

  void Submit(const std::string& yaml) {
    auto resp = sched_->SubmitDag(yaml, "test.yaml");
    ASSERT_TRUE(resp.ok()) << resp.status();
    ASSERT_THAT(resp->errors(), IsEmpty()) << resp->DebugString();
  }

  std::string Trigger(const std::string& dag_id,
                      const std::map<std::string, std::string>& conf = {}) {
    auto run = sched_->Trigger(dag_id, std::nullopt, conf);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? run->run_id() : "";
  }

  void Report(const std::string& worker, int64_t attempt_id, bool success, int exit_code = 0,
              const std::string& error = "") {
    v1::WorkerMessage m;
    v1::TaskResult* r = m.mutable_result();
    r->set_attempt_id(attempt_id);
    r->set_success(success);
    r->set_exit_code(exit_code);
    r->set_error(error);
    sched_->OnWorkerMessage(worker, Session(worker), m);
  }
  void Succeed(const std::string& worker, const v1::Assignment& a) {
    Report(worker, a.attempt_id(), true, 0);
  }
  void Fail(const std::string& worker, const v1::Assignment& a, int exit_code = 1) {
    Report(worker, a.attempt_id(), false, exit_code, absl::StrCat("exit code ", exit_code));
  }

  void Heartbeat(const std::string& worker, std::vector<int64_t> ids) {
    v1::WorkerMessage m;
    for (int64_t id : ids) m.mutable_heartbeat()->add_running_attempt_ids(id);
    if (ids.empty()) m.mutable_heartbeat();
    sched_->OnWorkerMessage(worker, Session(worker), m);
  }

  void Log(const std::string& worker, int64_t attempt_id, int64_t offset, const std::string& data) {
    v1::WorkerMessage m;
    m.mutable_log()->set_attempt_id(attempt_id);
    m.mutable_log()->set_offset(offset);
    m.mutable_log()->set_data(data);
    sched_->OnWorkerMessage(worker, Session(worker), m);
  }

  void Advance(absl::Duration d) {
    clock_.Advance(d);
    sched_->ProcessTimers();
  }

  // ---- Reads of committed state ----
  store::RunRow Run(const std::string& run_id) {
    auto view = View();
    auto row = view->GetRun(run_id);
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !row->has_value()) {
      ADD_FAILURE() << "no run " << run_id;
      return {};
    }
    return **row;
  }
  std::map<std::string, store::TaskInstanceRow> Tis(const std::string& run_id) {
    auto view = View();
    auto rows = view->ListTaskInstances(run_id);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, store::TaskInstanceRow> out;
    if (rows.ok()) {
      for (auto& r : *rows) out[r.task_id] = r;
    }
    return out;
  }
  std::vector<store::AttemptRow> Attempts(const std::string& run_id, const std::string& task = "") {
    auto view = View();
    auto rows = view->ListAttempts(run_id);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<store::AttemptRow> out;
    if (rows.ok()) {
      for (auto& a : *rows) {
        if (task.empty() || a.task_id == task) out.push_back(a);
      }
    }
    return out;
  }
  store::AttemptRow Attempt(int64_t id) {
    auto view = View();
    auto row = view->GetAttempt(id);
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !row->has_value()) {
      ADD_FAILURE() << "no attempt " << id;
      return {};
    }
    return **row;
  }
  std::map<std::string, std::string> TaskStates(const std::string& run_id) {
    std::map<std::string, std::string> out;
    for (const auto& [id, t] : Tis(run_id)) out[id] = t.state;
    return out;
  }

  int64_t Ms(absl::Time t) const { return absl::ToUnixMillis(t); }
  int64_t NowMs() const { return absl::ToUnixMillis(clock_.Now()); }

  struct Worker {
    std::shared_ptr<FakeChannel> channel;
    uint64_t session = 0;
  };

  TempDir dir_;
  const absl::Time start_;
  common::FakeClock clock_;
  std::unique_ptr<Scheduler> sched_;
  std::map<std::string, Worker> workers_;
  uint64_t next_session_ = 0;
};

}  // namespace
}  // namespace de::sched
