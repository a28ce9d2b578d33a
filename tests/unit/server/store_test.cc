#include "server/store/store.h"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/sqlite.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::store {
namespace {

using ::de::testing_util::Backend;
using ::de::testing_util::QueryInt;
using ::de::testing_util::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The store tests run on both backends (StoreTest, parameterised); the few about SQLite's own
// behaviour (statements left busy, the WAL) on SQLite only (SqliteStoreTest).
class StoreFixture : public ::testing::Test {
 protected:
  void OpenStore(Backend backend) {
    std::string skip;
    location_ = testing_util::FreshLocation(backend, dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(location_, skip);
    auto store = Store::Open(location_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void AddDag(const std::string& dag_id, int version = 1, int64_t at = 1000) {
    DagVersionRow v;
    v.dag_id = dag_id;
    v.version = version;
    v.yaml = "dag: " + dag_id + "\n";
    v.source = dag_id + ".yaml";
    v.created_at = at;
    ASSERT_OK(store_->InsertDagVersion(v));
  }

  RunRow MakeRun(const std::string& run_id, const std::string& dag_id, const std::string& state,
                 int64_t logical_date, int64_t created_at) {
    RunRow r;
    r.run_id = run_id;
    r.dag_id = dag_id;
    r.dag_version = 1;
    r.run_type = "manual";
    r.state = state;
    r.logical_date = logical_date;
    r.interval_start = logical_date;
    r.interval_end = logical_date + 86'400'000;
    r.created_at = created_at;
    return r;
  }

  void AddRun(const std::string& run_id, const std::string& dag_id, const std::string& state,
              int64_t logical_date, int64_t created_at) {
    ASSERT_OK(store_->InsertRun(MakeRun(run_id, dag_id, state, logical_date, created_at)));
  }

  static std::vector<std::string> Ids(const std::vector<RunRow>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.run_id);
    return out;
  }

  TempDir dir_;
  std::string location_;
  std::unique_ptr<Store> store_;
};

class StoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { OpenStore(GetParam()); }
};
INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, DE_BOTH_BACKENDS);

class SqliteStoreTest : public StoreFixture {
 protected:
  void SetUp() override { OpenStore(Backend::kSqlite); }
};


// ---- DAGs ----------------------------------------------------------------------------------

TEST_P(StoreTest, DagVersionRoundTripAndLatestVersion) {
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetDag("flights"));
  EXPECT_FALSE(missing.has_value());

  DagVersionRow v1;
  v1.dag_id = "flights";
  v1.version = 1;
  v1.yaml = "dag: flights\ntasks: []\n# ünïcödé 'quotes' \"double\"\n";
  v1.source = "dags/flights.yaml";
  v1.created_at = 1'700'000'000'000;
  ASSERT_OK(store_->InsertDagVersion(v1));

  ASSERT_OK_AND_ASSIGN(auto dag, store_->GetDag("flights"));
  ASSERT_TRUE(dag.has_value());
  EXPECT_EQ(dag->dag_id, "flights");
  EXPECT_EQ(dag->latest_version, 1);
  EXPECT_FALSE(dag->paused);
  EXPECT_EQ(dag->created_at, v1.created_at);
  EXPECT_EQ(dag->updated_at, v1.created_at);

  ASSERT_OK_AND_ASSIGN(auto got, store_->GetDagVersion("flights", 1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->dag_id, "flights");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->yaml, v1.yaml);
  EXPECT_EQ(got->source, v1.source);
  EXPECT_EQ(got->created_at, v1.created_at);

  DagVersionRow v2 = v1;
  v2.version = 2;
  v2.yaml = "dag: flights\ndescription: two\n";
  v2.created_at = v1.created_at + 5000;
  ASSERT_OK(store_->InsertDagVersion(v2));
  ASSERT_OK_AND_ASSIGN(dag, store_->GetDag("flights"));
  ASSERT_TRUE(dag.has_value());
  EXPECT_EQ(dag->latest_version, 2);
  EXPECT_EQ(dag->created_at, v1.created_at) << "created_at is the first version's";
  EXPECT_EQ(dag->updated_at, v2.created_at);

  ASSERT_OK_AND_ASSIGN(auto versions, store_->ListDagVersions("flights"));
  EXPECT_THAT(versions, ElementsAre(1, 2));
  ASSERT_OK_AND_ASSIGN(auto old, store_->GetDagVersion("flights", 1));
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->yaml, v1.yaml) << "old versions stay readable";
  ASSERT_OK_AND_ASSIGN(auto none, store_->GetDagVersion("flights", 3));
  EXPECT_FALSE(none.has_value());

  // The same version twice is a primary-key violation.
  EXPECT_FALSE(store_->InsertDagVersion(v2).ok());
}

TEST_P(StoreTest, ListDagsIsOrderedByIdAndSetPausedPersists) {
  AddDag("zeta");
  AddDag("alpha");
  AddDag("mid");
  ASSERT_OK(store_->SetPaused("mid", true, 9999));
  ASSERT_OK_AND_ASSIGN(auto dags, store_->ListDags());
  ASSERT_EQ(dags.size(), 3u);
  EXPECT_EQ(dags[0].dag_id, "alpha");
  EXPECT_EQ(dags[1].dag_id, "mid");
  EXPECT_EQ(dags[2].dag_id, "zeta");
  EXPECT_FALSE(dags[0].paused);
  EXPECT_TRUE(dags[1].paused);
  EXPECT_EQ(dags[1].updated_at, 9999);

  // A new version keeps the paused flag.
  AddDag("mid", 2, 20000);
  ASSERT_OK_AND_ASSIGN(auto mid, store_->GetDag("mid"));
  ASSERT_TRUE(mid.has_value());
  EXPECT_TRUE(mid->paused);
  EXPECT_EQ(mid->latest_version, 2);

  ASSERT_OK(store_->SetPaused("mid", false, 30000));
  ASSERT_OK_AND_ASSIGN(mid, store_->GetDag("mid"));
  EXPECT_FALSE(mid->paused);
}

// ---- Runs ----------------------------------------------------------------------------------

TEST_P(StoreTest, RunRoundTripWithConfAndNullTimestamps) {
  AddDag("d");
  RunRow r = MakeRun("d__manual__1", "d", "queued", 1'704'067'200'000, 1'704'070'000'000);
  r.run_type = "backfill";
  r.conf = {{"raw_dir", "data/raw"},
            {"quoted", "a \"b\" 'c' \\ d"},
            {"unicode", "ünïcödé ✓"},
            {"empty", ""},
            {"multi", "line1\nline2"}};
  r.reason = "";
  r.backfill_id = "bf-1";
  ASSERT_OK(store_->InsertRun(r));

  // Zero timestamps are stored as NULL.
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM runs WHERE started_at IS NULL AND "
                                   "ended_at IS NULL"),
            1);

  ASSERT_OK_AND_ASSIGN(auto got, store_->GetRun(r.run_id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->run_id, r.run_id);
  EXPECT_EQ(got->dag_id, "d");
  EXPECT_EQ(got->dag_version, 1);
  EXPECT_EQ(got->run_type, "backfill");
  EXPECT_EQ(got->state, "queued");
  EXPECT_EQ(got->logical_date, r.logical_date);
  EXPECT_EQ(got->interval_start, r.interval_start);
  EXPECT_EQ(got->interval_end, r.interval_end);
  EXPECT_EQ(got->conf, r.conf);
  EXPECT_EQ(got->reason, "");
  EXPECT_EQ(got->backfill_id, "bf-1");
  EXPECT_EQ(got->created_at, r.created_at);
  EXPECT_EQ(got->started_at, 0);
  EXPECT_EQ(got->ended_at, 0);

  // UpdateRun changes state, reason and the timestamps, nothing else.
  RunRow upd = *got;
  upd.state = "failed";
  upd.reason = "task b failed";
  upd.started_at = r.created_at + 10;
  upd.ended_at = r.created_at + 20;
  upd.conf = {{"ignored", "yes"}};
  upd.dag_version = 7;
  ASSERT_OK(store_->UpdateRun(upd));
  ASSERT_OK_AND_ASSIGN(got, store_->GetRun(r.run_id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, "failed");
  EXPECT_EQ(got->reason, "task b failed");
  EXPECT_EQ(got->started_at, r.created_at + 10);
  EXPECT_EQ(got->ended_at, r.created_at + 20);
  EXPECT_EQ(got->conf, r.conf);
  EXPECT_EQ(got->dag_version, 1);
}

TEST_P(StoreTest, RunWithoutConfOrBackfillReadsBackEmpty) {
  AddDag("d");
  AddRun("r1", "d", "running", 5, 6);
  ASSERT_OK_AND_ASSIGN(auto got, store_->GetRun("r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(got->conf, IsEmpty());
  EXPECT_EQ(got->backfill_id, "");
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetRun("nope"));
  EXPECT_FALSE(missing.has_value());
}

TEST_P(StoreTest, RunExistsAndDuplicateIdsAndForeignKeys) {
  AddDag("d");
  ASSERT_OK_AND_ASSIGN(bool before, store_->RunExists("r1"));
  EXPECT_FALSE(before);
  AddRun("r1", "d", "queued", 1, 1);
  ASSERT_OK_AND_ASSIGN(bool after, store_->RunExists("r1"));
  EXPECT_TRUE(after);
  EXPECT_FALSE(store_->InsertRun(MakeRun("r1", "d", "queued", 2, 2)).ok()) << "duplicate run id";
  EXPECT_FALSE(store_->InsertRun(MakeRun("r2", "no_such_dag", "queued", 2, 2)).ok())
      << "foreign keys are enforced";
}

TEST_P(StoreTest, ListRunsFiltersOrdersAndLimits) {
  AddDag("a");
  AddDag("b");
  AddRun("a1", "a", "success", /*logical_date=*/100, /*created_at=*/1);
  AddRun("a2", "a", "failed", 300, 2);
  AddRun("a3", "a", "success", 200, 3);
  AddRun("a4", "a", "success", 300, 4);   // same logical date as a2, created later
  AddRun("b1", "b", "success", 250, 5);
  AddRun("b2", "b", "running", 50, 6);

  ASSERT_OK_AND_ASSIGN(auto all, store_->ListRuns("", "", 100));
  EXPECT_THAT(Ids(all), ElementsAre("a4", "a2", "b1", "a3", "a1", "b2"));

  ASSERT_OK_AND_ASSIGN(auto of_a, store_->ListRuns("a", "", 100));
  EXPECT_THAT(Ids(of_a), ElementsAre("a4", "a2", "a3", "a1"));

  ASSERT_OK_AND_ASSIGN(auto success, store_->ListRuns("", "success", 100));
  EXPECT_THAT(Ids(success), ElementsAre("a4", "b1", "a3", "a1"));

  ASSERT_OK_AND_ASSIGN(auto a_success, store_->ListRuns("a", "success", 100));
  EXPECT_THAT(Ids(a_success), ElementsAre("a4", "a3", "a1"));

  ASSERT_OK_AND_ASSIGN(auto limited, store_->ListRuns("a", "", 2));
  EXPECT_THAT(Ids(limited), ElementsAre("a4", "a2"));

  ASSERT_OK_AND_ASSIGN(auto one, store_->ListRuns("", "", 1));
  EXPECT_THAT(Ids(one), ElementsAre("a4"));

  ASSERT_OK_AND_ASSIGN(auto none, store_->ListRuns("c", "", 100));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto no_state, store_->ListRuns("a", "cancelled", 100));
  EXPECT_THAT(no_state, IsEmpty());
}

TEST_P(StoreTest, ListUnfinishedRunsOldestFirst) {
  AddDag("a");
  AddDag("b");
  AddRun("done", "a", "success", 10, 1);
  AddRun("failed", "a", "failed", 11, 2);
  AddRun("cancelled", "a", "cancelled", 12, 3);
  AddRun("running", "a", "running", 30, 4);
  AddRun("queued", "b", "queued", 20, 5);
  AddRun("waiting", "a", "waiting", 30, 3);   // same logical date as "running", created earlier
  ASSERT_OK_AND_ASSIGN(auto runs, store_->ListUnfinishedRuns());
  EXPECT_THAT(Ids(runs), ElementsAre("queued", "waiting", "running"));
}

// ---- Task instances ------------------------------------------------------------------------

TEST_P(StoreTest, TaskInstanceRoundTripWithCountersAndNullTimestamps) {
  AddDag("d");
  AddRun("r", "d", "running", 1, 1);
  TaskInstanceRow t;
  t.run_id = "r";
  t.task_id = "convert";
  t.state = "scheduled";
  t.max_tries = 3;
  ASSERT_OK(store_->InsertTaskInstance(t));
  TaskInstanceRow t2 = t;
  t2.task_id = "aggregate";
  ASSERT_OK(store_->InsertTaskInstance(t2));
  EXPECT_FALSE(store_->InsertTaskInstance(t2).ok()) << "(run_id, task_id) is unique";

  EXPECT_EQ(QueryInt(store_->db(),
                     "SELECT count(*) FROM task_instances WHERE next_retry_at IS NULL AND "
                     "queued_at IS NULL AND started_at IS NULL AND ended_at IS NULL"),
            2);

  ASSERT_OK_AND_ASSIGN(auto tis, store_->ListTaskInstances("r"));
  ASSERT_EQ(tis.size(), 2u);
  EXPECT_EQ(tis[0].task_id, "convert") << "insertion order";
  EXPECT_EQ(tis[1].task_id, "aggregate");
  EXPECT_EQ(tis[0].state, "scheduled");
  EXPECT_EQ(tis[0].try_number, 0);
  EXPECT_EQ(tis[0].max_tries, 3);
  EXPECT_EQ(tis[0].lost_count, 0);
  EXPECT_EQ(tis[0].next_retry_at, 0);
  EXPECT_EQ(tis[0].queued_at, 0);
  EXPECT_EQ(tis[0].started_at, 0);
  EXPECT_EQ(tis[0].ended_at, 0);
  EXPECT_EQ(tis[0].worker, "");
  EXPECT_EQ(tis[0].error, "");
  EXPECT_THAT(tis[0].counters, IsEmpty());

  TaskInstanceRow u = tis[0];
  u.state = "up_for_retry";
  u.try_number = 2;
  u.max_tries = 4;
  u.lost_count = 1;
  u.next_retry_at = 5000;
  u.queued_at = 1000;
  u.started_at = 2000;
  u.ended_at = 3000;
  u.worker = "w1";
  u.error = "exit code 3: \"boom\"";
  u.counters = {{"rows_in", 3'000'000},
                {"rows_rejected", 0},
                {"big", std::numeric_limits<int64_t>::max()},
                {"negative", -12}};
  ASSERT_OK(store_->UpdateTaskInstance(u));
  ASSERT_OK_AND_ASSIGN(tis, store_->ListTaskInstances("r"));
  ASSERT_EQ(tis.size(), 2u);
  const TaskInstanceRow& g = tis[0];
  EXPECT_EQ(g.state, "up_for_retry");
  EXPECT_EQ(g.try_number, 2);
  EXPECT_EQ(g.max_tries, 4);
  EXPECT_EQ(g.lost_count, 1);
  EXPECT_EQ(g.next_retry_at, 5000);
  EXPECT_EQ(g.queued_at, 1000);
  EXPECT_EQ(g.started_at, 2000);
  EXPECT_EQ(g.ended_at, 3000);
  EXPECT_EQ(g.worker, "w1");
  EXPECT_EQ(g.error, u.error);
  EXPECT_EQ(g.counters, u.counters);
  EXPECT_EQ(tis[1].state, "scheduled") << "only the addressed row changes";

  // Clearing optional fields writes NULL again.
  u.next_retry_at = 0;
  u.counters.clear();
  ASSERT_OK(store_->UpdateTaskInstance(u));
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM task_instances WHERE task_id = "
                                   "'convert' AND next_retry_at IS NULL"),
            1);
  ASSERT_OK_AND_ASSIGN(tis, store_->ListTaskInstances("r"));
  EXPECT_THAT(tis[0].counters, IsEmpty());
  EXPECT_EQ(tis[0].next_retry_at, 0);

  ASSERT_OK_AND_ASSIGN(auto other, store_->ListTaskInstances("no_run"));
  EXPECT_THAT(other, IsEmpty());
}

// ---- Attempts ------------------------------------------------------------------------------

TEST_P(StoreTest, AttemptRoundTripWithOptionalExitCode) {
  AddDag("d");
  AddRun("r", "d", "running", 1, 1);
  AttemptRow a;
  a.run_id = "r";
  a.task_id = "t";
  a.try_number = 1;
  a.worker = "w1";
  a.state = "running";
  a.started_at = 1000;
  ASSERT_OK_AND_ASSIGN(int64_t id1, store_->InsertAttempt(a));
  a.try_number = 2;
  ASSERT_OK_AND_ASSIGN(int64_t id2, store_->InsertAttempt(a));
  a.try_number = 3;
  ASSERT_OK_AND_ASSIGN(int64_t id3, store_->InsertAttempt(a));
  EXPECT_GT(id1, 0);
  EXPECT_LT(id1, id2);
  EXPECT_LT(id2, id3);

  ASSERT_OK_AND_ASSIGN(auto got, store_->GetAttempt(id1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->attempt_id, id1);
  EXPECT_EQ(got->run_id, "r");
  EXPECT_EQ(got->task_id, "t");
  EXPECT_EQ(got->try_number, 1);
  EXPECT_EQ(got->worker, "w1");
  EXPECT_EQ(got->state, "running");
  EXPECT_EQ(got->started_at, 1000);
  EXPECT_EQ(got->ended_at, 0);
  EXPECT_FALSE(got->exit_code.has_value());
  EXPECT_EQ(got->error, "");

  // Exit code 0 is a value, distinct from "no exit code".
  AttemptRow end1 = *got;
  end1.state = "success";
  end1.ended_at = 2000;
  end1.exit_code = 0;
  ASSERT_OK(store_->UpdateAttempt(end1));
  AttemptRow end2 = end1;
  end2.attempt_id = id2;
  end2.state = "failed";
  end2.exit_code = -9;
  end2.error = "killed by signal 9";
  ASSERT_OK(store_->UpdateAttempt(end2));
  AttemptRow end3 = end1;
  end3.attempt_id = id3;
  end3.state = "lost";
  end3.exit_code.reset();
  end3.error = "worker w1 stopped heartbeating";
  ASSERT_OK(store_->UpdateAttempt(end3));

  ASSERT_OK_AND_ASSIGN(auto all, store_->ListAttempts("r"));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].attempt_id, id1);
  EXPECT_EQ(all[0].state, "success");
  EXPECT_EQ(all[0].ended_at, 2000);
  ASSERT_TRUE(all[0].exit_code.has_value());
  EXPECT_EQ(*all[0].exit_code, 0);
  EXPECT_EQ(all[1].state, "failed");
  EXPECT_EQ(all[1].exit_code, std::optional<int>(-9));
  EXPECT_EQ(all[1].error, "killed by signal 9");
  EXPECT_EQ(all[2].state, "lost");
  EXPECT_FALSE(all[2].exit_code.has_value());
  EXPECT_EQ(all[2].try_number, 3);
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM attempts WHERE exit_code IS NULL"), 1);

  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetAttempt(id3 + 100));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK_AND_ASSIGN(auto none, store_->ListAttempts("other"));
  EXPECT_THAT(none, IsEmpty());
}

// ---- Workers -------------------------------------------------------------------------------

TEST_P(StoreTest, WorkerUpsertKeepsFirstSeen) {
  WorkerRow w;
  w.name = "w2";
  w.slots = 4;
  w.pools = {"default", "gpu"};
  w.version = "0.1.0";
  w.first_seen = 100;
  w.last_seen = 100;
  w.state = "connected";
  ASSERT_OK(store_->UpsertWorker(w));
  WorkerRow other;
  other.name = "w1";
  other.slots = 1;
  other.version = "0.1.0";
  other.first_seen = 50;
  other.last_seen = 60;
  other.state = "disconnected";
  ASSERT_OK(store_->UpsertWorker(other));

  ASSERT_OK_AND_ASSIGN(auto workers, store_->ListWorkers());
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].name, "w1") << "ordered by name";
  EXPECT_THAT(workers[0].pools, IsEmpty());
  EXPECT_EQ(workers[1].name, "w2");
  EXPECT_EQ(workers[1].slots, 4);
  EXPECT_THAT(workers[1].pools, ElementsAre("default", "gpu"));
  EXPECT_EQ(workers[1].version, "0.1.0");
  EXPECT_EQ(workers[1].first_seen, 100);
  EXPECT_EQ(workers[1].last_seen, 100);
  EXPECT_EQ(workers[1].state, "connected");

  w.slots = 8;
  w.pools = {"io"};
  w.version = "0.2.0";
  w.first_seen = 999;   // ignored on update
  w.last_seen = 500;
  w.state = "disconnected";
  ASSERT_OK(store_->UpsertWorker(w));
  ASSERT_OK_AND_ASSIGN(workers, store_->ListWorkers());
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[1].slots, 8);
  EXPECT_THAT(workers[1].pools, ElementsAre("io"));
  EXPECT_EQ(workers[1].version, "0.2.0");
  EXPECT_EQ(workers[1].first_seen, 100);
  EXPECT_EQ(workers[1].last_seen, 500);
  EXPECT_EQ(workers[1].state, "disconnected");
}

// ---- DeleteDag -----------------------------------------------------------------------------

TEST_P(StoreTest, DeleteDagRemovesEverythingOfThatDagOnly) {
  for (const std::string dag : {"gone", "kept"}) {
    AddDag(dag, 1);
    AddDag(dag, 2);
    for (int i = 0; i < (dag == "gone" ? 3 : 2); ++i) {
      std::string run_id = dag + "_r" + std::to_string(i);
      AddRun(run_id, dag, "success", i, i);
      for (const std::string task : {"a", "b"}) {
        TaskInstanceRow t;
        t.run_id = run_id;
        t.task_id = task;
        t.state = "success";
        ASSERT_OK(store_->InsertTaskInstance(t));
        AttemptRow a;
        a.run_id = run_id;
        a.task_id = task;
        a.try_number = 1;
        a.worker = "w";
        a.state = "success";
        a.started_at = 1;
        ASSERT_OK(store_->InsertAttempt(a).status());
      }
    }
  }
  ASSERT_OK_AND_ASSIGN(int deleted, store_->DeleteDag("gone"));
  EXPECT_EQ(deleted, 3);

  store::Db* db = store_->db();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dags WHERE dag_id = 'gone'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dag_versions WHERE dag_id = 'gone'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM runs WHERE dag_id = 'gone'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM task_instances WHERE run_id LIKE 'gone%'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM attempts WHERE run_id LIKE 'gone%'"), 0);

  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dags"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dag_versions"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM runs"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM task_instances"), 4);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM attempts"), 4);

  ASSERT_OK_AND_ASSIGN(int again, store_->DeleteDag("gone"));
  EXPECT_EQ(again, 0);
  ASSERT_OK_AND_ASSIGN(int unknown, store_->DeleteDag("never_existed"));
  EXPECT_EQ(unknown, 0);
  // The id can be reused from version 1.
  AddDag("gone", 1);
  ASSERT_OK_AND_ASSIGN(auto dag, store_->GetDag("gone"));
  ASSERT_TRUE(dag.has_value());
  EXPECT_EQ(dag->latest_version, 1);
}

// ---- Transactions --------------------------------------------------------------------------

TEST_P(StoreTest, TransactionRollsBackWithoutCommit) {
  AddDag("d");
  {
    Transaction tx(store_->db());
    ASSERT_OK(tx.status());
    AddRun("rolled_back", "d", "queued", 1, 1);
    ASSERT_OK_AND_ASSIGN(bool inside, store_->RunExists("rolled_back"));
    EXPECT_TRUE(inside) << "visible inside the transaction";
  }
  ASSERT_OK_AND_ASSIGN(bool after, store_->RunExists("rolled_back"));
  EXPECT_FALSE(after);

  {
    Transaction tx(store_->db());
    ASSERT_OK(tx.status());
    AddRun("committed", "d", "queued", 1, 1);
    ASSERT_OK(tx.Commit());
  }
  ASSERT_OK_AND_ASSIGN(bool committed, store_->RunExists("committed"));
  EXPECT_TRUE(committed);

  // Visible to a second connection only after commit.
  {
    Transaction tx(store_->db());
    AddRun("pending", "d", "queued", 1, 1);
    auto other = Store::Open(location_);
    ASSERT_TRUE(other.ok()) << other.status();
    ASSERT_OK_AND_ASSIGN(bool seen, (*other)->RunExists("pending"));
    EXPECT_FALSE(seen);
    ASSERT_OK(tx.Commit());
    ASSERT_OK_AND_ASSIGN(seen, (*other)->RunExists("pending"));
    EXPECT_TRUE(seen);
  }
}

TEST_P(StoreTest, NestedTransactionFailsToBeginAndLeavesTheOuterOneIntact) {
  AddDag("d");
  Transaction outer(store_->db());
  ASSERT_OK(outer.status());
  AddRun("r1", "d", "queued", 1, 1);
  {
    Transaction inner(store_->db());
    EXPECT_FALSE(inner.status().ok());
    EXPECT_FALSE(inner.Commit().ok());
  }  // must not roll back the outer transaction
  AddRun("r2", "d", "queued", 2, 2);
  ASSERT_OK(outer.Commit());
  ASSERT_OK_AND_ASSIGN(bool r1, store_->RunExists("r1"));
  ASSERT_OK_AND_ASSIGN(bool r2, store_->RunExists("r2"));
  EXPECT_TRUE(r1);
  EXPECT_TRUE(r2);
}

TEST_P(StoreTest, ReopeningTheFileKeepsCommittedRows) {
  AddDag("d");
  AddRun("r", "d", "running", 1, 1);
  store_.reset();
  auto again = Store::Open(location_);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_OK_AND_ASSIGN(auto run, (*again)->GetRun("r"));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->state, "running");
}

// ---- Statement lifetime ---------------------------------------------------------------------

// Statements of `db` that are mid-step (hold a read transaction open).
int BusyStatements(Db* generic) {
  auto* db = static_cast<SqliteDb*>(generic);
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db->raw(), nullptr); s != nullptr;
       s = sqlite3_next_stmt(db->raw(), s)) {
    n += sqlite3_stmt_busy(s) ? 1 : 0;
  }
  return n;
}

TEST_F(SqliteStoreTest, ListReadsLeaveNoStatementBusy) {
  AddDag("d");
  AddRun("r", "d", "running", 1, 1);
  ASSERT_OK(store_->ListDags().status());
  ASSERT_OK(store_->ListRuns("", "", 10).status());
  ASSERT_OK(store_->ListUnfinishedRuns().status());
  ASSERT_OK(store_->ListTaskInstances("r").status());
  ASSERT_OK(store_->ListAttempts("r").status());
  ASSERT_OK(store_->ListWorkers().status());
  ASSERT_OK(store_->ListDagVersions("d").status());
  EXPECT_EQ(BusyStatements(store_->db()), 0);
}

// Regression (was a bug): the single-row reads (GetDag, GetDagVersion, GetRun, RunExists, GetAttempt) return while
// their cached statement still sits on SQLITE_ROW: it is only reset the next time the same SQL is
// used. A busy statement keeps the connection's read transaction open, so (a) another connection
// sees this connection's snapshot as in use and the WAL can never be restarted, and (b) this
// connection reads a stale snapshot of other connections' writes. Fix: reset (e.g. a scope guard
// calling Stmt::Reset) before returning from every single-row read.
TEST_F(SqliteStoreTest, SingleRowReadsLeaveNoStatementBusy) {
  AddDag("d");
  AddRun("r", "d", "running", 1, 1);
  AttemptRow a;
  a.run_id = "r";
  a.task_id = "t";
  a.worker = "w";
  a.state = "running";
  ASSERT_OK_AND_ASSIGN(int64_t id, store_->InsertAttempt(a));
  ASSERT_EQ(BusyStatements(store_->db()), 0);

  ASSERT_OK(store_->GetDag("d").status());
  EXPECT_EQ(BusyStatements(store_->db()), 0) << "after GetDag";
  ASSERT_OK(store_->GetDagVersion("d", 1).status());
  EXPECT_EQ(BusyStatements(store_->db()), 0) << "after GetDagVersion";
  ASSERT_OK(store_->GetRun("r").status());
  EXPECT_EQ(BusyStatements(store_->db()), 0) << "after GetRun";
  ASSERT_OK(store_->RunExists("r").status());
  EXPECT_EQ(BusyStatements(store_->db()), 0) << "after RunExists";
  ASSERT_OK(store_->GetAttempt(id).status());
  EXPECT_EQ(BusyStatements(store_->db()), 0) << "after GetAttempt";
}

// BUG (same cause, the visible effect): after one GetDag that found its row, every later commit of
// this connection appends to the WAL and the WAL is never restarted: 1,500 small commits grow it
// to ~30 MB instead of staying near the 1,000-page auto-checkpoint size (~4 MB). A scheduler that
// runs for weeks grows its WAL without bound.
TEST_F(SqliteStoreTest, WalStaysBoundedAfterASingleRowRead) {
  AddDag("d");
  ASSERT_OK_AND_ASSIGN(auto dag, store_->GetDag("d"));
  ASSERT_TRUE(dag.has_value());
  for (int i = 0; i < 1500; ++i) {
    Transaction tx(store_->db());
    ASSERT_OK(tx.status());
    AddRun("r" + std::to_string(i), "d", "queued", i, i);
    ASSERT_OK(tx.Commit());
  }
  const auto wal = std::filesystem::file_size(dir_.File("de.db-wal"));
  EXPECT_LT(wal, 8u << 20) << "WAL bytes: " << wal;
}

// The same workload without a pending single-row read keeps the WAL small (the control for the
// test above).
TEST_F(SqliteStoreTest, WalStaysBoundedWithoutPendingReads) {
  AddDag("d");
  for (int i = 0; i < 1500; ++i) {
    Transaction tx(store_->db());
    ASSERT_OK(tx.status());
    AddRun("r" + std::to_string(i), "d", "queued", i, i);
    ASSERT_OK(tx.Commit());
  }
  const auto wal = std::filesystem::file_size(dir_.File("de.db-wal"));
  EXPECT_LT(wal, 8u << 20) << "WAL bytes: " << wal;
}

}  // namespace
}  // namespace de::store
