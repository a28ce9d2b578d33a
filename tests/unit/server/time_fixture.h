// The fixture of the time tests: a scheduler on a FakeClock with a fake worker (no threads, no
// sleeping). Not thread-safe; one per test.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/limits.h"
#include "server/sched/scheduler.h"
#include "server/store/store.h"

namespace de::sched {

class RecordingChannel : public WorkerChannel {
 public:
  void Send(const v1::SchedulerMessage& m) override {
    absl::MutexLock lock(&mu_);
    msgs_.push_back(m);
  }
  void Close() override {}
  std::vector<v1::SchedulerMessage> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(msgs_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::SchedulerMessage> msgs_;
};

inline absl::Time Day(int y, int m, int d, int h = 0, int min = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, h, min), absl::UTCTimeZone());
}

inline std::string Date(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

class TimeSemanticsTest : public ::testing::Test {
 protected:
  TimeSemanticsTest() : clock_(Day(2024, 1, 1)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "de-time-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  ~TimeSemanticsTest() override {
    scheduler_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open(std::map<std::string, int> pools = {}) {
    scheduler_.reset();
    auto store = store::Store::Open(dir_ + "/de.db");
    ASSERT_TRUE(store.ok()) << store.status();
    SchedulerOptions opts;
    opts.logs_dir = dir_ + "/logs";
    opts.pool_slots = pools;
    scheduler_ = std::make_unique<Scheduler>(std::move(*store), &clock_, opts);
    ASSERT_TRUE(scheduler_->Recover().ok());
    channel_ = std::make_shared<RecordingChannel>();
    pending_.clear();
  }

  void Connect(int slots = 1000) {
    v1::Register reg;
    reg.set_name("w");
    reg.set_slots(slots);
    ASSERT_TRUE(scheduler_->RegisterWorker(reg, channel_, ++session_).ok());
  }

  void Submit(const std::string& yaml) {
    auto r = scheduler_->SubmitDag(yaml, "t.yaml");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->errors_size(), 0) << r->errors(0).line() << ": " << r->errors(0).message();
  }

  // Collects assignments sent so far.
  void Collect() {
    for (auto& m : channel_->Take()) {
      if (m.has_assign()) pending_.push_back(m.assign());
    }
  }

  // Reports every pending assignment (and those that follow) until nothing is pending.
  // `fail` decides which attempts fail. Timers run between rounds (next intervals, retries).
  int Drain(const std::function<bool(const v1::Assignment&)>& fail = nullptr) {
    int reported = 0;
    for (int round = 0; round < 10000; ++round) {
      v1::WorkerMessage hb;   // a live worker heartbeats
      hb.mutable_heartbeat();
      scheduler_->OnWorkerMessage("w", session_, hb);
      scheduler_->ProcessTimers();
      Collect();
      if (pending_.empty()) break;
      std::vector<v1::Assignment> now = std::exchange(pending_, {});
      for (const auto& a : now) {
        order_.push_back(a.run_id());
        Report(a.attempt_id(), !(fail && fail(a)));
        ++reported;
      }
    }
    return reported;
  }

  void Report(int64_t attempt_id, bool success) {
    v1::WorkerMessage m;
    m.mutable_result()->set_attempt_id(attempt_id);
    m.mutable_result()->set_success(success);
    m.mutable_result()->set_exit_code(success ? 0 : 1);
    scheduler_->OnWorkerMessage("w", session_, m);
  }

  std::vector<v1::Run> Runs(const std::string& dag) {
    auto r = scheduler_->ListRuns(dag, "", kMaxListRows);
    EXPECT_TRUE(r.ok());
    std::vector<v1::Run> runs(r->runs().begin(), r->runs().end());
    std::sort(runs.begin(), runs.end(), [](const v1::Run& a, const v1::Run& b) {
      return std::make_tuple(a.logical_date_ms(), a.created_at_ms()) <
             std::make_tuple(b.logical_date_ms(), b.created_at_ms());
    });
    return runs;
  }

  std::string Dates(const std::string& dag, const std::string& state = "") {
    std::vector<std::string> out;
    for (const auto& r : Runs(dag)) {
      if (state.empty() || r.state() == state) out.push_back(Date(r.logical_date_ms()));
    }
    return absl::StrJoin(out, ",");
  }

  v1::Run RunAt(const std::string& dag, absl::Time logical) {
    for (const auto& r : Runs(dag)) {
      if (r.logical_date_ms() == absl::ToUnixMillis(logical)) return *scheduler_->GetRun(r.run_id());
    }
    ADD_FAILURE() << "no run of " << dag << " at " << logical;
    return {};
  }

  static std::string Daily(const std::string& extra, const std::string& name = "daily") {
    return absl::StrCat("dag: ", name, "\nschedule: \"@daily\"\nstart_date: 2024-01-01\n", extra,
                        "\ntasks:\n  - { id: t, type: noop }\n");
  }

  std::string dir_;
  common::FakeClock clock_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<RecordingChannel> channel_;
  std::vector<v1::Assignment> pending_;
  std::vector<std::string> order_;
  uint64_t session_ = 0;
};

}  // namespace de::sched
