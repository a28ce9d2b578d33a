// History retention in the store (store_clean.cc), on both backends: which runs are cleanable,
// what a clean deletes (the old finished runs with their task instances, attempts and non-pending
// alert deliveries) and that everything else stays.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/store.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::store {
namespace {

using ::de::testing_util::Backend;
using ::de::testing_util::QueryInt;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kCutoff = 1'000 * kDay;   // "90 days ago"
constexpr int64_t kOld = kCutoff - 10 * kDay;
constexpr int64_t kNew = kCutoff + 10 * kDay;

class StoreCleanTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    location_ = testing_util::FreshLocation(GetParam(), dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(location_, skip);
    auto store = Store::Open(location_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    for (const char* dag : {"d", "e"}) {
      DagVersionRow v;
      v.dag_id = dag;
      v.version = 1;
      v.yaml = absl::StrCat("dag: ", dag, "\n");
      v.source = "x.yaml";
      v.created_at = 1;
      ASSERT_OK(store_->InsertDagVersion(v));
    }
  }

  // A run with two task instances (the second tried twice: three attempts) and one sent and one
  // pending alert delivery. `ended` 0: not ended.
  void AddRun(const std::string& id, const std::string& dag, const std::string& type,
              const std::string& state, int64_t logical, int64_t ended) {
    RunRow r;
    r.run_id = id;
    r.dag_id = dag;
    r.dag_version = 1;
    r.run_type = type;
    r.state = state;
    r.logical_date = logical;
    r.interval_start = logical;
    r.interval_end = logical + kDay;
    r.created_at = logical;
    r.started_at = logical + 1;
    r.ended_at = ended;
    ASSERT_OK(store_->InsertRun(r));
    for (int k = 0; k < 2; ++k) {
      TaskInstanceRow t;
      t.run_id = id;
      t.task_id = absl::StrCat("t", k);
      t.state = ended ? "success" : "running";
      t.try_number = k + 1;
      ASSERT_OK(store_->InsertTaskInstance(t));
      for (int a = 1; a <= k + 1; ++a) {
        AttemptRow at;
        at.run_id = id;
        at.task_id = t.task_id;
        at.try_number = a;
        at.worker = "w1";
        at.state = ended ? "success" : "running";
        at.started_at = logical + 2;
        ASSERT_OK(store_->InsertAttempt(at).status());
      }
    }
    for (const char* state : {"sent", "pending"}) {
      ASSERT_OK(store_->db()->Exec(absl::StrCat(
          "INSERT INTO alert_outbox(delivery_id, dag_id, run_id, event, channel, target, body, "
          "state, next_attempt_at, created_at) VALUES ('", id, "-", state, "', '", dag, "', '", id,
          "', 'failure', 'webhook', '{}', '{}', '", state, "', 1, 1)")));
    }
  }

  int64_t Rows(const std::string& table, const std::string& run_id) {
    return QueryInt(store_->db(),
                    absl::StrCat("SELECT count(*) FROM ", table, " WHERE run_id = '", run_id, "'"));
  }

  // Old and new runs of d (finished in every way, unfinished in every way, scheduled ones) and an
  // old finished run of e.
  void AddHistory() {
    AddRun("d_ok", "d", "manual", "success", kOld - 5 * kDay, kOld);
    AddRun("d_failed", "d", "manual", "failed", kOld - 4 * kDay, kOld + 1);
    AddRun("d_cancelled", "d", "backfill", "cancelled", kOld - 3 * kDay, kOld + 2);
    AddRun("d_running", "d", "manual", "running", kOld - 20 * kDay, 0);
    AddRun("d_queued", "d", "manual", "queued", kOld - 19 * kDay, 0);
    AddRun("d_waiting", "d", "manual", "waiting", kOld - 18 * kDay, 0);
    AddRun("d_new", "d", "manual", "success", kNew - kDay, kNew);
    // Scheduled: the earlier goes, the latest stays (the schedule resumes after it).
    AddRun("d_sched1", "d", "scheduled", "success", kOld - 30 * kDay, kOld - 29 * kDay);
    AddRun("d_sched2", "d", "scheduled", "success", kOld - 29 * kDay, kOld - 28 * kDay);
    AddRun("e_ok", "e", "manual", "success", kOld - kDay, kOld + 3);
  }

  testing_util::TempDir dir_;
  std::string location_;
  std::unique_ptr<Store> store_;
};
INSTANTIATE_TEST_SUITE_P(Backends, StoreCleanTest, DE_BOTH_BACKENDS);

TEST_P(StoreCleanTest, CleanableRunsAreTheOldFinishedOnesOldestEndFirst) {
  AddHistory();
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListCleanableRuns(kCutoff, ""));
  EXPECT_THAT(all, ElementsAre("d_sched1", "d_ok", "d_failed", "d_cancelled", "e_ok"));
  ASSERT_OK_AND_ASSIGN(auto of_e, store_->ListCleanableRuns(kCutoff, "e"));
  EXPECT_THAT(of_e, ElementsAre("e_ok"));
  ASSERT_OK_AND_ASSIGN(auto none, store_->ListCleanableRuns(kOld - 100 * kDay, ""));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto counts, store_->CountRunHistory(all));
  EXPECT_EQ(counts.runs, 5);
  EXPECT_EQ(counts.task_instances, 10);
  EXPECT_EQ(counts.attempts, 15);
  EXPECT_EQ(counts.alerts, 5);   // the sent ones; a pending delivery is never deleted
}

TEST_P(StoreCleanTest, DeleteRemovesExactlyTheOldFinishedRunsAndTheirRows) {
  AddHistory();
  ASSERT_OK_AND_ASSIGN(auto ids, store_->ListCleanableRuns(kCutoff, ""));
  // A run that is not cleanable (still running, or too new) is left alone even when asked.
  ids.push_back("d_running");
  ids.push_back("d_new");
  std::vector<std::string> deleted;
  HistoryCounts counts;
  {
    Transaction tx(store_->db());
    ASSERT_OK(tx.status());
    ASSERT_OK_AND_ASSIGN(counts, store_->DeleteRunHistory(ids, kCutoff, &deleted));
    ASSERT_OK(tx.Commit());
  }
  EXPECT_THAT(deleted, UnorderedElementsAre("d_sched1", "d_ok", "d_failed", "d_cancelled", "e_ok"));
  EXPECT_EQ(counts.runs, 5);
  EXPECT_EQ(counts.task_instances, 10);
  EXPECT_EQ(counts.attempts, 15);
  EXPECT_EQ(counts.alerts, 5);
  for (const auto& id : deleted) {
    EXPECT_EQ(Rows("runs", id), 0) << id;
    EXPECT_EQ(Rows("task_instances", id), 0) << id;
    EXPECT_EQ(Rows("attempts", id), 0) << id;
    EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM alert_outbox WHERE run_id = '" + id +
                                         "' AND state = 'sent'"),
              0)
        << id;
  }
  for (const char* id : {"d_running", "d_queued", "d_waiting", "d_new", "d_sched2"}) {
    EXPECT_EQ(Rows("runs", id), 1) << id;
    EXPECT_EQ(Rows("task_instances", id), 2) << id;
    EXPECT_EQ(Rows("attempts", id), 3) << id;
    EXPECT_EQ(Rows("alert_outbox", id), 2) << id;
  }
  // Pending deliveries stay; DAGs and their versions stay.
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM alert_outbox WHERE state = 'pending'"), 10);
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM runs"), 5);
  ASSERT_OK_AND_ASSIGN(auto dags, store_->ListDags());
  EXPECT_EQ(dags.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto version, store_->GetDagVersion("e", 1));
  EXPECT_TRUE(version.has_value());
  // Nothing more to clean.
  ASSERT_OK_AND_ASSIGN(auto again, store_->ListCleanableRuns(kCutoff, ""));
  EXPECT_THAT(again, IsEmpty());
}

TEST_P(StoreCleanTest, DeleteOfNothingOrUnknownIdsDeletesNothing) {
  AddHistory();
  std::vector<std::string> deleted;
  Transaction tx(store_->db());
  ASSERT_OK(tx.status());
  ASSERT_OK_AND_ASSIGN(auto counts, store_->DeleteRunHistory({"nope", "it's \"odd\"\\"}, kCutoff,
                                                             &deleted));
  ASSERT_OK(tx.Commit());
  EXPECT_THAT(deleted, IsEmpty());
  EXPECT_EQ(counts.runs, 0);
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM runs"), 10);
}

}  // namespace
}  // namespace de::store
