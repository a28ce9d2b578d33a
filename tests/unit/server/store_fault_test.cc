// Store faults: every way a write or commit can fail, driven through the scheduler with the
// fault-injection VFS (server/store/fault_vfs.h) and, for a statement failing in the middle of a
// transaction, an SQL trigger that raises. Each test checks what callers were told against what
// the database holds afterwards.
#include <sqlite3.h>

#include "server/store/fault_vfs.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

using ::de::testing_util::QueryInt;
using ::testing::Not;

constexpr char kPair[] = R"(
dag: pair
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
)";

constexpr char kChain[] = R"(
dag: chain
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    needs: [a]
)";

class StoreFaultTest : public SchedulerTest {
 protected:
  void SetUp() override {
    store::fault::Install();
    SchedulerTest::SetUp();
  }
  void TearDown() override { store::fault::Clear(); }

  std::string IntegrityCheck() {
    auto view = View();
    auto stmt = view->db()->Prepare("PRAGMA integrity_check");
    EXPECT_TRUE(stmt.ok());
    auto row = (*stmt)->Step();
    EXPECT_TRUE(row.ok() && *row);
    return (*stmt)->Text(0);
  }
  int64_t Count(const std::string& sql) { return QueryInt(View()->db(), sql); }
};

TEST_F(StoreFaultTest, FailedTriggerCommitIsADiskFullErrorAndLeavesNoRun) {
  Submit(kSingle);
  store::fault::FailWrites(SQLITE_FULL);
  auto run = sched_->Trigger("single", std::nullopt, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(run.status().message(), HasSubstr("cannot commit trigger: disk full"));
  store::fault::Clear();
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 0);
  EXPECT_EQ(IntegrityCheck(), "ok");
  // Memory matches the database: the next trigger runs normally once the backoff has passed.
  clock_.Advance(absl::Seconds(1));
  const std::string id = Trigger("single");
  ASSERT_OK(Connect("w1").status());
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].run_id(), id);
}

TEST_F(StoreFaultTest, FailedCancelAndClearCommitsAreErrors) {
  Submit(kSingle);
  const std::string id = Trigger("single");
  store::fault::FailWrites(SQLITE_FULL);
  auto cancelled = sched_->CancelRun(id);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_THAT(cancelled.status().message(), HasSubstr("cannot commit cancel: disk full"));
  store::fault::Clear();
  EXPECT_EQ(Run(id).state, "running") << "the failed cancel left nothing behind";
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(Connect("w1").status());
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Fail("w1", as[0]);
  ASSERT_EQ(Run(id).state, "failed");
  store::fault::FailWrites(SQLITE_IOERR_WRITE);
  v1::ClearRunRequest req;
  req.set_run_id(id);
  auto cleared = sched_->ClearRun(req);
  ASSERT_FALSE(cleared.ok());
  EXPECT_THAT(cleared.status().message(), HasSubstr("cannot commit clear"));
  store::fault::Clear();
  EXPECT_EQ(Run(id).state, "failed");
}

TEST_F(StoreFaultTest, FailedBackfillCommitsAreErrorsNotSuccesses) {
  Submit("dag: daily\nschedule: \"@daily\"\nstart_date: 2023-12-01\ncatchup: false\n"
         "tasks:\n  - { id: t, type: noop }\n");
  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(Ms(start_ - absl::Hours(24 * 5)));
  req.set_to_ms(Ms(start_ - absl::Hours(24 * 2)));
  store::fault::FailWrites(SQLITE_FULL);
  auto created = sched_->CreateBackfill(req);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(created.status().message(), HasSubstr("cannot commit backfill: disk full"));
  store::fault::Clear();
  EXPECT_EQ(Count("SELECT count(*) FROM backfills"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 0);

  clock_.Advance(absl::Seconds(1));
  created = sched_->CreateBackfill(req);
  ASSERT_TRUE(created.ok()) << created.status();
  store::fault::FailWrites(SQLITE_IOERR_WRITE);
  auto cancelled = sched_->CancelBackfill(created->backfill_id());
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(cancelled.status().message(), HasSubstr("cannot commit cancel backfill: I/O error"));
  store::fault::Clear();
  EXPECT_EQ(Count("SELECT count(*) FROM backfills WHERE state = 'running'"), 1);
}

TEST_F(StoreFaultTest, ARefusedRequestIsToldAsItIsAndDoesNotHoldBackgroundWritesBack) {
  Submit(kSingle);
  const std::string id = Trigger("single");
  ASSERT_OK(Connect("w1").status());
  ASSERT_EQ(Channel("w1").TakeAssignments().size(), 1u);
  v1::ClearRunRequest req;
  req.set_run_id(id);
  auto cleared = sched_->ClearRun(req);
  ASSERT_FALSE(cleared.ok());
  EXPECT_EQ(cleared.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cleared.status().message(), Not(HasSubstr("cannot commit")));
  // No backoff: a trigger right away is dispatched in the same call.
  ASSERT_OK(Connect("w2").status());
  Trigger("single");
  EXPECT_EQ(Channel("w2").TakeAssignments().size(), 1u);
}

TEST_F(StoreFaultTest, StatementFailingMidTransactionIsRolledBackBeforeTheReload) {
  Submit(kPair);
  // The second attempt insert of a dispatch batch fails after the first task's rows were written
  // in the same transaction: a reload reading inside that transaction would believe task a runs.
  ASSERT_OK(View()->db()->Exec(
      "CREATE TRIGGER inject BEFORE INSERT ON attempts WHEN (SELECT count(*) FROM attempts) >= 1 "
      "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"));
  ASSERT_OK(Connect("w1", 2).status());
  Trigger("pair");
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
  EXPECT_EQ(sched_->StoreReloads(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 0);
  ASSERT_OK(View()->db()->Exec("DROP TRIGGER inject"));
  Advance(absl::Seconds(1));
  auto as = Channel("w1").TakeAssignments();
  EXPECT_THAT(TaskIds(as), UnorderedElementsAre("a", "b"));
  EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE state = 'running'"), 2);
}

TEST_F(StoreFaultTest, DiskFullKeepsTheResultDoesNotReloadInALoopAndResumes) {
  Submit(kChain);
  ASSERT_OK(Connect("w1").status());
  const std::string id = Trigger("chain");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  store::fault::FailWrites(SQLITE_FULL);
  Succeed("w1", as[0]);   // cannot be committed: kept
  EXPECT_EQ(sched_->PendingResults(), 1);
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "running");
  auto t = sched_->Trigger("chain", std::nullopt, {});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("disk full"));
  // A minute of disk full, well past the 10 s lease: the reported attempt is not lost, and the
  // state is rebuilt a few times (backoff), not on every pass.
  for (int i = 0; i < 60; ++i) {
    Heartbeat("w1", {});
    Advance(absl::Seconds(1));
  }
  EXPECT_LE(sched_->StoreReloads(), 9);
  EXPECT_EQ(sched_->PendingResults(), 1);
  EXPECT_EQ(IntegrityCheck(), "ok");
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "running");

  store::fault::Clear();   // space is back
  for (int i = 0; i < 31 && sched_->PendingResults() > 0; ++i) {
    Heartbeat("w1", {});
    Advance(absl::Seconds(1));
  }
  EXPECT_EQ(sched_->PendingResults(), 0);
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "success");
  EXPECT_EQ(Attempts(id, "a").size(), 1u) << "a was not run again";
  auto next = Channel("w1").TakeAssignments();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task_id(), "b");
  Succeed("w1", next[0]);
  EXPECT_EQ(Run(id).state, "success");
  EXPECT_EQ(IntegrityCheck(), "ok");
}

constexpr char kTrio[] = R"(
dag: trio
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
  - id: c
    type: noop
)";

TEST_F(StoreFaultTest, OneResultThatCannotBeRecordedDoesNotDropTheOthersOfItsBatch) {
  Submit(kTrio);
  ASSERT_OK(Connect("w1", 3).status());
  const std::string id = Trigger("trio");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 3u);
  // Disk full: the three results queue up, to be committed as one batch once it passes.
  store::fault::FailWrites(SQLITE_FULL);
  for (const auto& a : as) Succeed("w1", a);
  EXPECT_EQ(sched_->PendingResults(), 3);
  store::fault::Clear();
  // The middle result's own write fails, not for the store's sake (as a bug would).
  const int64_t bad = as[1].attempt_id();
  ASSERT_OK(View()->db()->Exec(absl::StrCat(
      "CREATE TRIGGER inject BEFORE UPDATE ON attempts WHEN OLD.attempt_id = ", bad,
      " BEGIN SELECT RAISE(ABORT, 'injected bug'); END")));
  Advance(absl::Seconds(1));   // past the backoff: the timer pass applies the batch
  EXPECT_EQ(sched_->PendingResults(), 0);
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "success");
  EXPECT_EQ(Attempt(as[2].attempt_id()).state, "success");
  EXPECT_EQ(Attempt(bad).state, "running") << "dropped alone: it ends by lease";
  ASSERT_OK(View()->db()->Exec("DROP TRIGGER inject"));
  // Its lease runs out: lost, and its task runs again.
  Advance(absl::Seconds(11));
  EXPECT_EQ(Attempt(bad).state, "lost");
  Heartbeat("w1", {});   // heard from again: no longer suspect
  auto again = Channel("w1").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].task_id(), as[1].task_id());
  Succeed("w1", again[0]);
  EXPECT_EQ(Run(id).state, "success");
}

TEST_F(StoreFaultTest, FailedRegisterCommitIsAnError) {
  Submit(kSingle);
  store::fault::FailWrites(SQLITE_FULL);
  auto ack = Connect("w1");
  ASSERT_FALSE(ack.ok());
  EXPECT_THAT(ack.status().message(), HasSubstr("cannot commit register: disk full"));
}

// Like leveldb's fault injection: fail the Nth write of a stream of triggers, for each N, and
// check that what the callers were told is exactly what the database holds.
TEST_F(StoreFaultTest, NthWriteFailureSweepKeepsCallersAndDatabaseInAgreement) {
  Submit(kSingle);
  int told_ok = 0;
  for (int n = 1; n <= 12; ++n) {
    store::fault::FailNthWrite(n, n % 2 ? SQLITE_IOERR_WRITE : SQLITE_FULL);
    for (int k = 0; k < 3; ++k) {
      clock_.Advance(absl::Seconds(31));   // past any backoff
      auto run = sched_->Trigger("single", std::nullopt, {});
      told_ok += run.ok();
    }
    store::fault::Clear();
    ASSERT_EQ(Count("SELECT count(*) FROM runs"), told_ok) << "n=" << n;
    ASSERT_EQ(IntegrityCheck(), "ok") << "n=" << n;
  }
  EXPECT_LT(told_ok, 36) << "some writes failed";
  Advance(absl::Seconds(31));
  ASSERT_OK(Connect("w1", 64).status());
  // Every acknowledged run runs (max_active_runs lets them through in waves).
  int done = 0;
  for (auto as = Channel("w1").TakeAssignments(); !as.empty();
       as = Channel("w1").TakeAssignments()) {
    for (const auto& a : as) Succeed("w1", a);
    done += static_cast<int>(as.size());
  }
  EXPECT_EQ(done, told_ok);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'success'"), told_ok);
}

TEST_F(StoreFaultTest, CorruptStoredConfIsAnErrorNotAnEmptyMap) {
  Submit(kSingle);
  const std::string id = Trigger("single", {});   // (undeclared conf keys are refused)
  ASSERT_OK(View()->db()->Exec("UPDATE runs SET conf = '{\"conf\": {\"k\": ' WHERE run_id = '" +
                               id + "'"));
  auto row = View()->GetRun(id);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(row.status().message(), HasSubstr("run " + id + ": stored conf is not valid JSON"));
  auto list = View()->ListUnfinishedRuns();
  EXPECT_FALSE(list.ok());
}

// A corrupt conf (a bit flip, a torn write) of one unfinished run does not keep the scheduler
// down: that run is failed with a reason `dectl runs show` prints; the others run.
TEST_F(StoreFaultTest, ACorruptRunIsFailedAtStartupAndEveryOtherRunGoesOn) {
  Submit(kSingle);
  Submit(kPair);
  const std::string bad = Trigger("single");
  const std::string good = Trigger("pair");
  ASSERT_OK(View()->db()->Exec("UPDATE runs SET conf = '{\"conf\": {\"k\": ' WHERE run_id = '" +
                               bad + "'"));
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  const store::RunRow row = Run(bad);
  EXPECT_EQ(row.state, "failed");
  EXPECT_THAT(row.reason, HasSubstr("data_loss: run " + bad + ": stored conf is not valid JSON"));
  EXPECT_EQ(TaskStates(bad)["only"], "failed");
  auto shown = sched_->GetRun(bad);   // what dectl runs show prints
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->state(), "failed");
  EXPECT_THAT(shown->reason(), HasSubstr("data_loss"));
  ASSERT_OK(Connect("w1", 2).status());
  auto as = Channel("w1").TakeAssignments();
  EXPECT_THAT(TaskIds(as), UnorderedElementsAre("a", "b"));
  for (const auto& a : as) Succeed("w1", a);
  EXPECT_EQ(Run(good).state, "success");
  // And a later restart finds nothing left to fail.
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  EXPECT_EQ(Run(bad).state, "failed");
}

}  // namespace
}  // namespace de::sched
