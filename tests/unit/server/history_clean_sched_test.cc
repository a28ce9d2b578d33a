// Scheduler::CleanHistory (dectl db clean) over the scheduler's own store: batches of
// kCleanBatchRuns runs, the runs' log folders, dry runs, bad requests, and a run the scheduler is
// running left alone.
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

constexpr char kOne[] = R"(
dag: one
tasks:
  - { id: a, type: noop }
)";

class HistoryCleanTest : public SchedulerTest {
 protected:
  // `n` manual runs of `one` that succeeded `age` ago, one task instance and attempt each; the
  // first `with_logs` of them with a log file of 10 bytes in DE_HOME/logs/RUN/a/.
  void AddFinishedRuns(int n, absl::Duration age, int with_logs) {
    auto view = View();
    store::Transaction tx(view->db());
    ASSERT_OK(tx.status());
    const int64_t ended = Ms(clock_.Now() - age);
    for (int i = 0; i < n; ++i) {
      store::RunRow r;
      r.run_id = absl::StrCat("old_", i);
      r.dag_id = "one";
      r.dag_version = 1;
      r.run_type = "manual";
      r.state = "success";
      r.logical_date = r.interval_start = r.interval_end = ended - 1000 - i;
      r.created_at = r.started_at = ended - 1000;
      r.ended_at = ended - i;
      ASSERT_OK(view->InsertRun(r));
      store::TaskInstanceRow t;
      t.run_id = r.run_id;
      t.task_id = "a";
      t.state = "success";
      t.try_number = 1;
      ASSERT_OK(view->InsertTaskInstance(t));
      store::AttemptRow a;
      a.run_id = r.run_id;
      a.task_id = "a";
      a.try_number = 1;
      a.worker = "w";
      a.state = "success";
      a.started_at = ended - 900;
      ASSERT_OK(view->InsertAttempt(a).status());
      if (i < with_logs) {
        const std::string dir = LogDir(r.run_id) + "/a";
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/1.log") << "0123456789";
      }
    }
    ASSERT_OK(tx.Commit());
  }
  std::string LogDir(const std::string& run_id) { return dir_.path() + "/logs/" + run_id; }
  int64_t Count(const std::string& sql) { return testing_util::QueryInt(View()->db(), sql); }

  v1::CleanHistoryRequest Request(absl::Duration older_than, bool dry_run) {
    v1::CleanHistoryRequest req;
    req.set_older_than_ms(absl::ToInt64Milliseconds(older_than));
    req.set_dry_run(dry_run);
    return req;
  }
};

TEST_F(HistoryCleanTest, DeletesOldRunsInBatchesWithTheirLogsAndLeavesTheRest) {
  Submit(kOne);
  const int n = Scheduler::kCleanBatchRuns * 2 + 1;
  AddFinishedRuns(n, absl::Hours(24 * 100), 3);
  const std::string running = Trigger("one");   // running now, in the scheduler's memory
  ASSERT_FALSE(running.empty());

  ASSERT_OK_AND_ASSIGN(auto dry, sched_->CleanHistory(Request(absl::Hours(24 * 90), true)));
  EXPECT_TRUE(dry.dry_run());
  EXPECT_EQ(dry.runs(), n);
  EXPECT_EQ(dry.task_instances(), n);
  EXPECT_EQ(dry.attempts(), n);
  EXPECT_EQ(dry.log_files(), 3);
  EXPECT_EQ(dry.log_bytes(), 30);
  EXPECT_EQ(dry.batches(), 3);
  EXPECT_EQ(dry.cutoff_ms(), NowMs() - 90 * 86'400'000LL);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), n + 1);
  EXPECT_TRUE(std::filesystem::exists(LogDir("old_0")));

  ASSERT_OK_AND_ASSIGN(auto done, sched_->CleanHistory(Request(absl::Hours(24 * 90), false)));
  EXPECT_FALSE(done.dry_run());
  EXPECT_EQ(done.runs(), n);
  EXPECT_EQ(done.task_instances(), n);
  EXPECT_EQ(done.attempts(), n);
  EXPECT_EQ(done.log_files(), 3);
  EXPECT_EQ(done.log_bytes(), 30);
  EXPECT_EQ(done.batches(), 3);
  EXPECT_FALSE(std::filesystem::exists(LogDir("old_0")));
  EXPECT_FALSE(std::filesystem::exists(LogDir("old_2")));
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 0);
  EXPECT_EQ(Run(running).state, "running");   // its task queued
  EXPECT_EQ(Tis(running).size(), 1u);

  // The scheduler goes on: the queued run is dispatched and finishes.
  ASSERT_OK(Connect("w1").status());
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(running).state, "success");
}

TEST_F(HistoryCleanTest, RecentRunsStayAndBadRequestsAreRefused) {
  Submit(kOne);
  AddFinishedRuns(5, absl::Hours(24 * 10), 1);
  ASSERT_OK_AND_ASSIGN(auto none, sched_->CleanHistory(Request(absl::Hours(24 * 90), false)));
  EXPECT_EQ(none.runs(), 0);
  EXPECT_EQ(none.batches(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 5);
  EXPECT_TRUE(std::filesystem::exists(LogDir("old_0")));

  auto zero = sched_->CleanHistory(Request(absl::ZeroDuration(), false));
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.status().message(), HasSubstr("older_than_ms must be positive"));
  auto req = Request(absl::Hours(1), false);
  req.set_dag_id("nope");
  auto unknown = sched_->CleanHistory(req);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no DAG named 'nope'"));
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 5);
}

}  // namespace
}  // namespace de::sched
