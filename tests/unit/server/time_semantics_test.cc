// Schedules, catchup, backfills, waits, depends_on_past and clear, driven by a FakeClock and a
// fake worker (no threads, no sleeping): every assertion is about runs and states in SQLite.
#include "absl/strings/match.h"
#include "tests/unit/server/time_fixture.h"

namespace de::sched {
namespace {

TEST_F(TimeSemanticsTest, CatchupAfterDowntimeCreatesEachMissedIntervalExactlyOnce) {
  clock_.Set(Day(2024, 1, 5, 3));
  Open();
  Connect();
  Submit(Daily("catchup: true\nmax_active_runs: 50"));
  Drain();
  // Intervals [d, d+1) that have ended by Jan 5 03:00: Jan 1..4.
  EXPECT_EQ(Dates("daily", "success"), "2024-01-01,2024-01-02,2024-01-03,2024-01-04");
  for (const auto& r : Runs("daily")) {
    EXPECT_EQ(r.run_type(), "scheduled");
    EXPECT_EQ(r.data_interval_end_ms() - r.data_interval_start_ms(), 86400000);
  }
  // The scheduler is down for a week, then comes back.
  scheduler_.reset();
  clock_.Advance(absl::Hours(24 * 7));
  Open();
  Connect();
  Drain();
  Drain();
  EXPECT_EQ(Dates("daily"),
            "2024-01-01,2024-01-02,2024-01-03,2024-01-04,2024-01-05,2024-01-06,2024-01-07,"
            "2024-01-08,2024-01-09,2024-01-10,2024-01-11");
  EXPECT_EQ(Dates("daily", "success"), Dates("daily"));
}

TEST_F(TimeSemanticsTest, CatchupFalseCreatesOnlyTheLatestInterval) {
  clock_.Set(Day(2024, 1, 10, 1));
  Open();
  Connect();
  Submit(Daily("catchup: false"));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-09");
  clock_.Advance(absl::Hours(24));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-09,2024-01-10");
  clock_.Advance(absl::Hours(24 * 3));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-09,2024-01-10,2024-01-13");
}

TEST_F(TimeSemanticsTest, EndDateStopsTheSchedule) {
  clock_.Set(Day(2024, 1, 20));
  Open();
  Connect();
  Submit(Daily("end_date: 2024-01-03"));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02,2024-01-03");
}

TEST_F(TimeSemanticsTest, MaxActiveRunsBoundsCatchupWhichProceedsInOrder) {
  clock_.Set(Day(2024, 1, 7));
  Open();
  Submit(Daily("max_active_runs: 2"));
  scheduler_->ProcessTimers();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02");   // no worker yet: two runs wait
  Connect();
  Drain();
  EXPECT_EQ(Dates("daily", "success"),
            "2024-01-01,2024-01-02,2024-01-03,2024-01-04,2024-01-05,2024-01-06");
  std::vector<std::string> dates;
  for (const auto& id : order_) dates.push_back(id.substr(id.find("__scheduled__") + 13, 8));
  EXPECT_TRUE(std::is_sorted(dates.begin(), dates.end())) << absl::StrJoin(dates, ",");
}

TEST_F(TimeSemanticsTest, PauseStopsNewRunsAndUnpauseCatchesUp) {
  clock_.Set(Day(2024, 1, 3));
  Open();
  Connect();
  Submit(Daily(""));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02");
  ASSERT_TRUE(scheduler_->SetPaused("daily", true).ok());
  clock_.Advance(absl::Hours(48));
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02");
  ASSERT_TRUE(scheduler_->SetPaused("daily", false).ok());
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02,2024-01-03,2024-01-04");
}

TEST_F(TimeSemanticsTest, BackfillDryRunThenEachRerunModeAndReverseAndCancel) {
  clock_.Set(Day(2024, 2, 1, 1));
  Open();
  Connect();
  Submit(Daily("catchup: false"));
  Drain();
  ASSERT_EQ(Dates("daily"), "2024-01-31");

  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 10)));
  req.set_dry_run(true);
  auto dry = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->total(), 10);
  ASSERT_EQ(dry->logical_dates_ms_size(), 10);
  EXPECT_EQ(Date(dry->logical_dates_ms(0)), "2024-01-01");
  EXPECT_EQ(Date(dry->logical_dates_ms(9)), "2024-01-10");
  EXPECT_EQ(Dates("daily"), "2024-01-31");   // a dry run creates nothing

  // A real backfill; two days fail.
  req.set_dry_run(false);
  auto b1 = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(b1.ok()) << b1.status();
  Drain([](const v1::Assignment& a) {
    return absl::StrContains(a.run_id(), "20240103") || absl::StrContains(a.run_id(), "20240107");
  });
  auto s1 = scheduler_->GetBackfill(b1->backfill_id());
  EXPECT_EQ(s1->state(), "failed");
  EXPECT_EQ(s1->runs_by_state().at("success"), 8);
  EXPECT_EQ(s1->runs_by_state().at("failed"), 2);
  for (const auto& r : Runs("daily")) {
    if (r.logical_date_ms() < absl::ToUnixMillis(Day(2024, 1, 11))) {
      EXPECT_EQ(r.run_type(), "backfill");
      EXPECT_EQ(r.backfill_id(), b1->backfill_id());
    }
  }

  // rerun none: everything is kept, nothing runs.
  req.set_rerun("none");
  auto b2 = scheduler_->CreateBackfill(req);
  EXPECT_EQ(Drain(), 0);
  auto s2 = scheduler_->GetBackfill(b2->backfill_id());
  EXPECT_EQ(s2->state(), "success");
  EXPECT_EQ(s2->runs_by_state().at("kept"), 10);

  // rerun failed: only the two failed days run again, and now succeed.
  req.set_rerun("failed");
  auto b3 = scheduler_->CreateBackfill(req);
  EXPECT_EQ(Drain(), 2);
  auto s3 = scheduler_->GetBackfill(b3->backfill_id());
  EXPECT_EQ(s3->state(), "success");
  EXPECT_EQ(s3->runs_by_state().at("success"), 2);
  EXPECT_EQ(s3->runs_by_state().at("kept"), 8);
  EXPECT_EQ(RunAt("daily", Day(2024, 1, 3)).state(), "success");
  EXPECT_EQ(RunAt("daily", Day(2024, 1, 3)).attempts_size(), 2);   // history kept

  // rerun all: all ten run again; still one run per interval.
  req.set_rerun("all");
  auto b4 = scheduler_->CreateBackfill(req);
  EXPECT_EQ(Drain(), 10);
  EXPECT_EQ(scheduler_->GetBackfill(b4->backfill_id())->runs_by_state().at("success"), 10);
  EXPECT_EQ(Runs("daily").size(), 11u);

  // reverse with one at a time: newest first.
  order_.clear();
  v1::CreateBackfillRequest rev;
  rev.set_dag_id("daily");
  rev.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 11)));
  rev.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 14)));
  rev.set_reverse(true);
  rev.set_max_active(1);
  ASSERT_TRUE(scheduler_->CreateBackfill(rev).ok());
  Drain();
  ASSERT_EQ(order_.size(), 4u);
  EXPECT_TRUE(absl::EndsWith(order_[0], "20240114T000000Z")) << order_[0];
  EXPECT_TRUE(absl::EndsWith(order_[3], "20240111T000000Z")) << order_[3];

  // cancel: the active runs are cancelled and the pending intervals never created.
  v1::CreateBackfillRequest big;
  big.set_dag_id("daily");
  big.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 15)));
  big.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 25)));
  big.set_max_active(2);
  auto b6 = scheduler_->CreateBackfill(big);
  ASSERT_TRUE(b6.ok());
  auto c = scheduler_->CancelBackfill(b6->backfill_id());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state(), "cancelled");
  EXPECT_EQ(c->runs_by_state().at("cancelled"), 2);
  EXPECT_EQ(c->runs_by_state().at("not_created"), 9);
  Drain();
  EXPECT_EQ(Runs("daily").size(), 11u + 4u + 2u);
}

TEST_F(TimeSemanticsTest, BackfillDoesNotHoldBackScheduledRuns) {
  clock_.Set(Day(2024, 3, 1, 1));
  Open();
  Submit(Daily("catchup: false\nmax_active_runs: 1"));
  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 2, 28)));
  req.set_max_active(5);
  ASSERT_TRUE(scheduler_->CreateBackfill(req).ok());
  scheduler_->ProcessTimers();
  // Today's run exists and is running despite five active backfill runs.
  EXPECT_EQ(RunAt("daily", Day(2024, 2, 29)).state(), "running");
  Connect(1);
  scheduler_->ProcessTimers();
  Collect();
  // With a single free slot, the scheduled run's task goes first.
  ASSERT_EQ(pending_.size(), 1u);
  EXPECT_TRUE(absl::StrContains(pending_[0].run_id(), "__scheduled__")) << pending_[0].run_id();
}

TEST_F(TimeSemanticsTest, MonthlyRollupWaitsForEveryDayOfItsMonth) {
  clock_.Set(Day(2024, 2, 1, 0, 30));
  Open();
  Connect();
  Submit(Daily("catchup: false"));
  Submit(R"(
dag: monthly
schedule: "@monthly"
start_date: 2024-01-01
wait_for:
  - dag: daily
    task: t
    window: interval
tasks:
  - { id: rollup, type: noop }
)");
  scheduler_->ProcessTimers();
  Collect();
  v1::Run jan = RunAt("monthly", Day(2024, 1, 1));
  EXPECT_EQ(jan.state(), "waiting");
  ASSERT_EQ(jan.waiting_on_size(), 1);
  EXPECT_TRUE(absl::StartsWith(jan.waiting_on(0), "daily.t: 0 of 31 intervals done; missing "
                                                  "2024-01-01, 2024-01-02"))
      << jan.waiting_on(0);
  EXPECT_TRUE(absl::EndsWith(jan.waiting_on(0), "and 21 more")) << jan.waiting_on(0);
  // The waiting run holds no worker slot: only daily's task was assigned.
  for (const auto& a : pending_) EXPECT_EQ(a.dag_id(), "daily");

  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 30)));
  req.set_max_active(31);
  ASSERT_TRUE(scheduler_->CreateBackfill(req).ok());
  Drain([](const v1::Assignment& a) {
    return a.dag_id() == "daily" && (absl::StrContains(a.run_id(), "20240117") ||
                                     absl::StrContains(a.run_id(), "20240130"));
  });
  jan = RunAt("monthly", Day(2024, 1, 1));
  EXPECT_EQ(jan.state(), "waiting");
  ASSERT_EQ(jan.waiting_on_size(), 1);
  EXPECT_EQ(jan.waiting_on(0), "daily.t: 29 of 31 intervals done; missing 2024-01-17, 2024-01-30");

  // Clearing the failed days: the roll-up starts in the step where the last day succeeds.
  v1::ClearRunRequest clear;
  clear.set_run_id(RunAt("daily", Day(2024, 1, 17)).run_id());
  ASSERT_TRUE(scheduler_->ClearRun(clear).ok());
  clear.set_run_id(RunAt("daily", Day(2024, 1, 30)).run_id());
  ASSERT_TRUE(scheduler_->ClearRun(clear).ok());
  Collect();
  ASSERT_EQ(pending_.size(), 2u);
  Report(pending_[0].attempt_id(), true);
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "waiting");
  Report(pending_[1].attempt_id(), true);
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "running");   // no timer step needed
  pending_.clear();
  Drain();
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "success");
}

TEST_F(TimeSemanticsTest, WaitTimesOutWithAnAlertReadyReason) {
  clock_.Set(Day(2024, 2, 1, 0, 30));
  Open();
  Connect();
  Submit(R"(
dag: upstream
schedule: "@daily"
start_date: 2024-01-01
catchup: false
tasks: [ { id: t, type: noop } ]
)");
  ASSERT_TRUE(scheduler_->SetPaused("upstream", true).ok());
  Submit(R"(
dag: monthly
schedule: "@monthly"
start_date: 2024-01-01
wait_for:
  - { dag: upstream, window: interval, timeout: 12h }
tasks:
  - { id: rollup, type: noop }
)");
  scheduler_->ProcessTimers();
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "waiting");
  clock_.Advance(absl::Hours(11));
  scheduler_->ProcessTimers();
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "waiting");
  clock_.Advance(absl::Hours(2));
  scheduler_->ProcessTimers();
  v1::Run run = RunAt("monthly", Day(2024, 1, 1));
  EXPECT_EQ(run.state(), "failed");
  EXPECT_TRUE(absl::StartsWith(run.reason(), "wait_timeout: upstream: 0 of 31 intervals done"))
      << run.reason();
  EXPECT_EQ(run.attempts_size(), 0);
}

TEST_F(TimeSemanticsTest, DependsOnPastHoldsATaskUntilItsPreviousRunSucceeded) {
  clock_.Set(Day(2024, 1, 4));
  Open();
  Connect();
  Submit(R"(
dag: past
schedule: "@daily"
start_date: 2024-01-01
tasks:
  - { id: load, type: noop, depends_on_past: true }
)");
  scheduler_->ProcessTimers();
  Collect();
  ASSERT_EQ(pending_.size(), 1u);
  EXPECT_TRUE(absl::StrContains(pending_[0].run_id(), "20240101"));
  // The first day fails: the next day's task stays scheduled.
  Report(pending_[0].attempt_id(), false);
  pending_.clear();
  scheduler_->ProcessTimers();
  Collect();
  EXPECT_TRUE(pending_.empty());
  EXPECT_EQ(RunAt("past", Day(2024, 1, 2)).tasks(0).state(), "scheduled");
  // Clearing the first day lets it succeed, and the chain proceeds day by day.
  v1::ClearRunRequest clear;
  clear.set_run_id(RunAt("past", Day(2024, 1, 1)).run_id());
  ASSERT_TRUE(scheduler_->ClearRun(clear).ok());
  Drain();
  EXPECT_EQ(Dates("past", "success"), "2024-01-01,2024-01-02,2024-01-03");
}

TEST_F(TimeSemanticsTest, ClearRerunsATaskAndItsDownstreamKeepingHistory) {
  Open();
  Connect();
  Submit(R"(
dag: chain
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, needs: [a] }
  - { id: c, type: noop, needs: [b] }
)");
  auto run = scheduler_->Trigger("chain", std::nullopt, {});
  ASSERT_TRUE(run.ok());
  Drain([](const v1::Assignment& a) { return a.task_id() == "b"; });
  v1::Run r = *scheduler_->GetRun(run->run_id());
  EXPECT_EQ(r.state(), "failed");
  v1::ClearRunRequest clear;
  clear.set_run_id(run->run_id());
  clear.add_task_ids("b");
  clear.set_downstream(true);
  auto cleared = scheduler_->ClearRun(clear);
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->state(), "running");
  Drain();
  r = *scheduler_->GetRun(run->run_id());
  EXPECT_EQ(r.state(), "success");
  int a_attempts = 0, b_attempts = 0, c_attempts = 0;
  for (const auto& x : r.attempts()) {
    a_attempts += x.task_id() == "a";
    b_attempts += x.task_id() == "b";
    c_attempts += x.task_id() == "c";
  }
  EXPECT_EQ(a_attempts, 1);   // not cleared: not run again
  EXPECT_EQ(b_attempts, 2);
  EXPECT_EQ(c_attempts, 1);
  // Unknown task names are an error, not a silent no-op.
  clear.clear_task_ids();
  clear.add_task_ids("nope");
  EXPECT_EQ(scheduler_->ClearRun(clear).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TimeSemanticsTest, PoolSlotsCapRunningTasksAcrossRuns) {
  Open({{"db", 1}});
  Connect(10);
  Submit(R"(
dag: loads
tasks:
  - { id: a, type: noop, pool: db }
  - { id: b, type: noop, pool: db }
  - { id: c, type: noop }
)");
  ASSERT_TRUE(scheduler_->Trigger("loads", std::nullopt, {}).ok());
  ASSERT_TRUE(scheduler_->Trigger("loads", std::nullopt, {}).ok());
  Collect();
  // Four db tasks are ready, but the pool has one slot; the unpooled tasks all go.
  int db = 0, other = 0;
  for (const auto& a : pending_) (a.task_id() == "c" ? other : db)++;
  EXPECT_EQ(db, 1);
  EXPECT_EQ(other, 2);
  // Each finished db task lets exactly one more in.
  for (int i = 0; i < 3; ++i) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [](const v1::Assignment& a) { return a.task_id() != "c"; });
    ASSERT_NE(it, pending_.end());
    Report(it->attempt_id(), true);
    pending_.erase(it);
    Collect();
    int running_db = 0;
    for (const auto& a : pending_) running_db += a.task_id() != "c";
    EXPECT_EQ(running_db, 1) << i;
  }
}

}  // namespace
}  // namespace de::sched
