// The PostgreSQL store's own behaviour: placeholder translation, redacted URLs, SQLSTATE to
// status, a lost connection (Unavailable, then re-opened), a transaction whose statement failed,
// write transactions serialised across connections, and one schema for both dialects.
#include "server/store/postgres.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "server/store/migrator.h"
#include "server/store/store.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::store {
namespace {

using ::de::testing_util::QueryInt;
using ::de::testing_util::TempDir;
using ::testing::HasSubstr;

TEST(PgPlaceholdersTest, NumbersBareAndNumberedPlaceholdersAsSqliteDoes) {
  EXPECT_EQ(PgPlaceholders("SELECT ? , ?"), "SELECT $1 , $2");
  EXPECT_EQ(PgPlaceholders("WHERE (?1 = '' OR a = ?1) LIMIT ?3"),
            "WHERE ($1 = '' OR a = $1) LIMIT $3");
  EXPECT_EQ(PgPlaceholders("a = ?2 AND b = ?"), "a = $2 AND b = $3");
  EXPECT_EQ(PgPlaceholders("x = '?' AND \"q?\" = ? -- why?\nAND y = ?"),
            "x = '?' AND \"q?\" = $1 -- why?\nAND y = $2");
  EXPECT_EQ(PgPlaceholders("x = 'it''s ?' AND y = ?"), "x = 'it''s ?' AND y = $1");
}

TEST(PgUrlTest, PasswordsAreRedacted) {
  EXPECT_EQ(RedactPgUrl("postgresql://de:s3cret@db:5432/de"), "postgresql://de:***@db:5432/de");
  EXPECT_EQ(RedactPgUrl("postgres://db/de?password=s3cret&sslmode=require"),
            "postgres://db/de?password=***&sslmode=require");
  EXPECT_EQ(RedactPgUrl("postgresql://de@db/de"), "postgresql://de@db/de");
  EXPECT_TRUE(IsPostgresUrl("postgres://x"));
  EXPECT_TRUE(IsPostgresUrl("postgresql://x"));
  EXPECT_FALSE(IsPostgresUrl("/home/de/de.db"));
}

TEST(PgStatusTest, MapsSqlStatesAsSqliteStatusDoes) {
  EXPECT_EQ(PgStatus("53100", "x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(PgStatus("53100", "x").message()), HasSubstr("disk full"));
  EXPECT_EQ(PgStatus("58030", "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(PgStatus("08006", "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(PgStatus("", "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(PgStatus("57P01", "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(PgStatus("55P03", "x").message()), HasSubstr("database busy"));
  EXPECT_EQ(PgStatus("40001", "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(PgStatus("XX001", "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(PgStatus("23505", "x").code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(IsStoreFailure(PgStatus("53100", "x")));
  EXPECT_FALSE(IsStoreFailure(PgStatus("42601", "x")));
}

TEST(MigrationsTest, BothDialectsHaveTheSameMigrations) {
  const auto& sqlite = EmbeddedMigrations(Dialect::kSqlite);
  const auto& pg = EmbeddedMigrations(Dialect::kPostgres);
  ASSERT_EQ(sqlite.size(), pg.size())
      << "a migration in migrations/ needs its PostgreSQL version in migrations/postgres/";
  for (size_t i = 0; i < sqlite.size(); ++i) EXPECT_EQ(sqlite[i].name, pg[i].name);
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    url_ = testing_util::FreshLocation(testing_util::Backend::kPostgres, dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(url_, skip);
    auto store = Store::Open(url_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  Db* db() { return store_->db(); }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_F(PgStoreTest, ALostConnectionIsUnavailableThenReopened) {
  ASSERT_OK(db()->Exec("CREATE TABLE t (x BIGINT)"));
  auto pid = QueryInt(db(), "SELECT pg_backend_pid()");
  auto killer = Db::Open(url_);
  ASSERT_TRUE(killer.ok()) << killer.status();
  ASSERT_EQ(QueryInt(killer->get(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                        std::to_string(pid)), 1);
  ASSERT_OK((*killer)->Exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"));
  absl::Status lost = db()->Cached("INSERT INTO t VALUES (?)").Bind(1, 1).Run();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_TRUE(IsStoreFailure(lost));
  // The next statement reconnects.
  ASSERT_OK(db()->Cached("INSERT INTO t VALUES (?)").Bind(1, 2).Run());
  EXPECT_EQ(QueryInt(db(), "SELECT sum(x) FROM t"), 2);
  EXPECT_NE(QueryInt(db(), "SELECT pg_backend_pid()"), pid);
}

TEST_F(PgStoreTest, CommitAfterAFailedStatementFailsAndKeepsNothing) {
  ASSERT_OK(db()->Exec("CREATE TABLE t (x BIGINT PRIMARY KEY)"));
  Transaction tx(db());
  ASSERT_OK(tx.status());
  ASSERT_OK(db()->Cached("INSERT INTO t VALUES (?)").Bind(1, 1).Run());
  EXPECT_FALSE(db()->Cached("INSERT INTO t VALUES (?)").Bind(1, 1).Run().ok());
  absl::Status st = tx.Commit();
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("rolled back"));
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 0);
  // The connection is usable again.
  Transaction again(db());
  ASSERT_OK(again.status());
  ASSERT_OK(db()->Cached("INSERT INTO t VALUES (?)").Bind(1, 3).Run());
  ASSERT_OK(again.Commit());
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 1);
}

// As with SQLite's BEGIN IMMEDIATE, one write transaction at a time: a second connection's
// transaction waits for the first to end, so a read-then-write inside one is never interleaved.
TEST_F(PgStoreTest, WriteTransactionsOfTwoConnectionsDoNotInterleave) {
  ASSERT_OK(db()->Exec("CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)"));
  auto increment = [this](Db* d) {
    for (int i = 0; i < 50; ++i) {
      Transaction tx(d);
      ASSERT_OK(tx.status());
      int64_t n = QueryInt(d, "SELECT n FROM counter");
      ASSERT_OK(d->Cached("UPDATE counter SET n = ?").Bind(1, n + 1).Run());
      ASSERT_OK(tx.Commit());
    }
  };
  auto other = Db::Open(url_);
  ASSERT_TRUE(other.ok()) << other.status();
  std::thread t([&] { increment(other->get()); });
  increment(db());
  t.join();
  EXPECT_EQ(QueryInt(db(), "SELECT n FROM counter"), 100);
}

TEST_F(PgStoreTest, ChangesCountsTheLastWriteOnlyAndIdsComeFromReturning) {
  ASSERT_OK(db()->Exec("CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                       "x BIGINT)"));
  ASSERT_OK_AND_ASSIGN(int64_t first,
                       InsertReturningId(db()->Cached("INSERT INTO t(x) VALUES (?) RETURNING id")
                                             .Bind(1, 5)));
  ASSERT_OK_AND_ASSIGN(int64_t second,
                       InsertReturningId(db()->Cached("INSERT INTO t(x) VALUES (?) RETURNING id")
                                             .Bind(1, 5)));
  EXPECT_EQ(second, first + 1);
  ASSERT_OK(db()->Cached("UPDATE t SET x = 6 WHERE x = ?").Bind(1, 5).Run());
  EXPECT_EQ(db()->Changes(), 2);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 2);
  EXPECT_EQ(db()->Changes(), 2) << "a SELECT is not a change";
  ASSERT_OK(db()->Cached("DELETE FROM t WHERE x = ?").Bind(1, 99).Run());
  EXPECT_EQ(db()->Changes(), 0);
}

TEST_F(PgStoreTest, ReadTransactionIsASnapshot) {
  ASSERT_OK(db()->Exec("CREATE TABLE t (x BIGINT)"));
  auto reader = Db::Open(url_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  {
    ReadTransaction snapshot(reader->get());
    EXPECT_EQ(QueryInt(reader->get(), "SELECT count(*) FROM t"), 0);
    ASSERT_OK(db()->Exec("INSERT INTO t VALUES (1)"));
    EXPECT_EQ(QueryInt(reader->get(), "SELECT count(*) FROM t"), 0) << "the snapshot holds";
  }
  EXPECT_EQ(QueryInt(reader->get(), "SELECT count(*) FROM t"), 1);
}

TEST_F(PgStoreTest, SchemaVersionIsKeptInATableAndANewerOneIsRefused) {
  ASSERT_OK_AND_ASSIGN(int version, SchemaVersion(db()));
  EXPECT_EQ(version, static_cast<int>(EmbeddedMigrations(Dialect::kPostgres).size()));
  ASSERT_OK(db()->Exec("UPDATE de_schema_version SET version = 999"));
  store_.reset();
  auto again = Store::Open(url_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("schema version 999"));
}

TEST(PgOpenTest, AnUnreachableServerIsUnavailableWithoutThePassword) {
  auto db = Db::Open("postgresql://de:s3cret@127.0.0.1:1/nothing?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(db.status().message()), HasSubstr("cannot connect to postgresql://"));
  EXPECT_THAT(std::string(db.status().message()), ::testing::Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace de::store
