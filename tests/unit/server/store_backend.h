// Running a store test against both backends: a GoogleTest value parameter (SQLite, PostgreSQL)
// and where that backend's fresh database is. PostgreSQL tests use one throwaway server per test
// binary (tests/support/pg_server.h), a new database per test; they skip, saying why, only when
// PostgreSQL's binaries are absent.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "server/store/db.h"
#include "tests/support/pg_server.h"
#include "tests/unit/server/test_util.h"

namespace de::testing_util {

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

#define DE_BOTH_BACKENDS                                                         \
  ::testing::Values(::de::testing_util::Backend::kSqlite,                        \
                    ::de::testing_util::Backend::kPostgres),                     \
      ::de::testing_util::BackendName

// A fresh, empty database of `backend`: dir/de.db, or a new PostgreSQL database. Empty with
// `*skip` set when PostgreSQL is not available (the caller GTEST_SKIPs with it).
inline std::string FreshLocation(Backend backend, const TempDir& dir, std::string* skip) {
  if (backend == Backend::kSqlite) return dir.File("de.db");
  testing::PgServer* pg = testing::PgServer::Get(skip);
  if (pg == nullptr) return "";
  std::string url = pg->CreateDatabase();
  if (url.empty()) *skip = "CREATE DATABASE failed: " + pg->Log();
  return url;
}

// Skips the current test when `location` could not be had (`skip` says why).
#define DE_SKIP_UNLESS_LOCATION(location, skip)                     \
  do {                                                              \
    if ((location).empty()) GTEST_SKIP() << (skip);                 \
  } while (0)

}  // namespace de::testing_util
