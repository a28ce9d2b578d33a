// SchedulerOptions for `dectl dag test` (one DAG run alone): scheduled_runs = false makes no cron
// runs, wait_for_dags = false counts a wait on another DAG as met. Against the default scheduler.
#include <gtest/gtest.h>

#include "server/sched/scheduler.h"
#include "tests/unit/server/time_fixture.h"

namespace de::sched {
namespace {

class LocalRunOptionsTest : public TimeSemanticsTest {
 protected:
  void OpenLocal() {
    scheduler_.reset();
    auto store = store::Store::Open(dir_ + "/de.db");
    ASSERT_TRUE(store.ok()) << store.status();
    SchedulerOptions opts;
    opts.logs_dir = dir_ + "/logs";
    opts.scheduled_runs = false;
    opts.wait_for_dags = false;
    scheduler_ = std::make_unique<Scheduler>(std::move(*store), &clock_, opts);
    ASSERT_TRUE(scheduler_->Recover().ok());
    channel_ = std::make_shared<RecordingChannel>();
  }

  static constexpr char kMonthly[] = R"(dag: monthly
schedule: "@monthly"
start_date: 2024-01-01
wait_for: [{ dag: upstream, window: interval }]   # never submitted here
tasks:
  - { id: t, type: noop }
)";
};

TEST_F(LocalRunOptionsTest, DefaultSchedulerCatchesUpAndWaits) {
  clock_.Set(Day(2024, 2, 3));
  Open();
  Connect();
  Submit(Daily("end_date: 2024-01-05"));
  Submit(kMonthly);
  Drain();
  EXPECT_EQ(Dates("daily"), "2024-01-01,2024-01-02,2024-01-03,2024-01-04,2024-01-05");
  EXPECT_EQ(RunAt("monthly", Day(2024, 1, 1)).state(), "waiting");   // upstream is not submitted
}

TEST_F(LocalRunOptionsTest, LocalRunMakesNoCronRunsAndDoesNotWaitForOtherDags) {
  clock_.Set(Day(2024, 2, 3));
  OpenLocal();
  Connect();
  Submit(Daily("end_date: 2024-01-05"));
  Submit(kMonthly);
  Drain();
  clock_.Set(Day(2024, 2, 5));
  Drain();
  EXPECT_EQ(Dates("daily"), "");
  EXPECT_EQ(Dates("monthly"), "");
  auto run = scheduler_->Trigger("monthly", Day(2024, 1, 1), {});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->data_interval_end_ms(), absl::ToUnixMillis(Day(2024, 2, 1)));
  Drain();
  EXPECT_EQ(scheduler_->GetRun(run->run_id())->state(), "success");
  EXPECT_EQ(Dates("daily"), "");
}

}  // namespace
}  // namespace de::sched
