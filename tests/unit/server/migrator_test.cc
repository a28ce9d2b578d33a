#include "server/store/migrator.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "server/store/sqlite.h"
#include "server/store/store.h"
#include "tests/unit/server/test_util.h"

namespace de::store {
namespace {

using ::de::testing_util::QueryInt;
using ::de::testing_util::TableExists;
using ::de::testing_util::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::vector<std::string>& SchemaTables() {
  static const std::vector<std::string> kTables = {"dags",          "dag_versions", "runs",
                                                   "task_instances", "attempts",     "workers"};
  return kTables;
}

std::unique_ptr<Db> OpenDb(const std::string& path) {
  auto db = Db::Open(path);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? std::move(*db) : nullptr;
}

TEST(MigratorTest, EmbeddedMigrationsAreNumberedFromOne) {
  const auto& migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].name, "0001_init.sql");
  for (const auto& m : migrations) EXPECT_FALSE(m.sql.empty()) << m.name;
}

TEST(MigratorTest, FreshDatabaseGetsEveryMigrationAndTable) {
  TempDir dir;
  auto db = OpenDb(dir.File("de.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(int before, SchemaVersion(db.get()));
  EXPECT_EQ(before, 0);

  ASSERT_OK(Migrate(db.get(), EmbeddedMigrations()));
  ASSERT_OK_AND_ASSIGN(int after, SchemaVersion(db.get()));
  EXPECT_EQ(after, static_cast<int>(EmbeddedMigrations().size()));
  for (const auto& t : SchemaTables()) EXPECT_TRUE(TableExists(db.get(), t)) << t;
}

TEST(MigratorTest, StoreOpenMigratesAFreshFile) {
  TempDir dir;
  auto store = Store::Open(dir.File("de.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion((*store)->db()));
  EXPECT_EQ(version, static_cast<int>(EmbeddedMigrations().size()));
  for (const auto& t : SchemaTables()) EXPECT_TRUE(TableExists((*store)->db(), t)) << t;
}

TEST(MigratorTest, RerunningIsANoOp) {
  TempDir dir;
  auto db = OpenDb(dir.File("de.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Migrate(db.get(), EmbeddedMigrations()));
  ASSERT_OK(db->Exec("INSERT INTO dags(dag_id, latest_version, created_at, updated_at) "
                     "VALUES ('kept', 1, 1, 1)"));
  // A second run (and a re-open through Store) applies nothing and keeps the data.
  ASSERT_OK(Migrate(db.get(), EmbeddedMigrations()));
  db.reset();
  auto store = Store::Open(dir.File("de.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion((*store)->db()));
  EXPECT_EQ(version, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(QueryInt((*store)->db(), "SELECT count(*) FROM dags WHERE dag_id = 'kept'"), 1);
}

TEST(MigratorTest, NewerDatabaseIsRefusedAndLeftUntouched) {
  TempDir dir;
  const std::string path = dir.File("de.db");
  const int newer = static_cast<int>(EmbeddedMigrations().size()) + 5;
  {
    auto db = OpenDb(path);
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Exec("CREATE TABLE from_the_future(x INTEGER)"));
    ASSERT_OK(db->Exec("INSERT INTO from_the_future VALUES (42)"));
    ASSERT_OK(db->Exec("PRAGMA user_version = " + std::to_string(newer)));
  }
  {
    auto db = OpenDb(path);
    ASSERT_NE(db, nullptr);
    absl::Status st = Migrate(db.get(), EmbeddedMigrations());
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
    EXPECT_THAT(std::string(st.message()),
                AllOf(HasSubstr(path), HasSubstr("schema version " + std::to_string(newer)),
                      HasSubstr("refusing")));
  }
  auto store = Store::Open(path);
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);

  auto db = OpenDb(path);
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db.get()));
  EXPECT_EQ(version, newer);
  EXPECT_EQ(QueryInt(db.get(), "SELECT x FROM from_the_future"), 42);
  for (const auto& t : SchemaTables()) EXPECT_FALSE(TableExists(db.get(), t)) << t;
}

TEST(MigratorTest, FailingMigrationLeavesThePreviousVersionAndNothingOfItself) {
  TempDir dir;
  auto db = OpenDb(dir.File("de.db"));
  ASSERT_NE(db, nullptr);
  const std::vector<Migration> bad = {
      {"0001_first.sql", "CREATE TABLE first(x INTEGER); INSERT INTO first VALUES (1);"},
      {"0002_second.sql",
       "CREATE TABLE second(y INTEGER); INSERT INTO first VALUES (2); THIS IS NOT SQL;"},
      {"0003_third.sql", "CREATE TABLE third(z INTEGER);"},
  };
  absl::Status st = Migrate(db.get(), bad);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("0002_second.sql"));

  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db.get()));
  EXPECT_EQ(version, 1);
  EXPECT_TRUE(TableExists(db.get(), "first"));
  EXPECT_FALSE(TableExists(db.get(), "second"));
  EXPECT_FALSE(TableExists(db.get(), "third"));
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM first"), 1);
  // Not left inside a transaction: a plain write works and persists.
  ASSERT_OK(db->Exec("INSERT INTO first VALUES (7)"));

  // A fixed list continues from version 1 (migration 1 is not re-run).
  const std::vector<Migration> fixed = {
      bad[0],
      {"0002_second.sql", "CREATE TABLE second(y INTEGER);"},
      bad[2],
  };
  ASSERT_OK(Migrate(db.get(), fixed));
  ASSERT_OK_AND_ASSIGN(int fixed_version, SchemaVersion(db.get()));
  EXPECT_EQ(fixed_version, 3);
  EXPECT_TRUE(TableExists(db.get(), "second"));
  EXPECT_TRUE(TableExists(db.get(), "third"));
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM first"), 2);
}

TEST(MigratorTest, OnlyNewMigrationsAreAppliedOnUpgrade) {
  TempDir dir;
  auto db = OpenDb(dir.File("de.db"));
  ASSERT_NE(db, nullptr);
  std::vector<Migration> v1 = {{"0001_a.sql", "CREATE TABLE a(x INTEGER);"}};
  ASSERT_OK(Migrate(db.get(), v1));
  // Re-running 0001 would fail (the table exists), so success proves it was skipped.
  std::vector<Migration> v2 = {v1[0], {"0002_b.sql", "ALTER TABLE a ADD COLUMN y INTEGER;"}};
  ASSERT_OK(Migrate(db.get(), v2));
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db.get()));
  EXPECT_EQ(version, 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM pragma_table_info('a') WHERE name = 'y'"), 1);
}

TEST(MigratorTest, OutOfSequenceNamesAreRejectedBeforeAnythingIsApplied) {
  const std::vector<std::vector<Migration>> cases = {
      {{"0001_a.sql", "CREATE TABLE a(x);"}, {"0003_c.sql", "CREATE TABLE c(x);"}},
      {{"0002_b.sql", "CREATE TABLE b(x);"}},
      {{"0001_a.sql", "CREATE TABLE a(x);"}, {"0001_again.sql", "CREATE TABLE again(x);"}},
      {{"init.sql", "CREATE TABLE init(x);"}},
  };
  for (const auto& migrations : cases) {
    TempDir dir;
    auto db = OpenDb(dir.File("de.db"));
    ASSERT_NE(db, nullptr);
    absl::Status st = Migrate(db.get(), migrations);
    EXPECT_FALSE(st.ok()) << migrations.back().name;
    EXPECT_THAT(std::string(st.message()), HasSubstr("out of sequence"));
    ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db.get()));
    EXPECT_EQ(version, 0);
    EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 0)
        << "nothing may be applied when the list is malformed";
  }
}

TEST(MigratorTest, EmptyListOnAFreshDatabaseIsANoOp) {
  TempDir dir;
  auto db = OpenDb(dir.File("de.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Migrate(db.get(), {}));
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db.get()));
  EXPECT_EQ(version, 0);
}

}  // namespace
}  // namespace de::store
