// Helpers shared by the server unit tests: a temporary directory and raw SQL probes.
// Header-only; each test file includes it.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "server/store/sqlite.h"

namespace de::testing_util {

// ASSERT that a StatusOr is ok and move its value into `lhs`.
#define DE_TEST_CONCAT_INNER(a, b) a##b
#define DE_TEST_CONCAT(a, b) DE_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(DE_TEST_CONCAT(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(tmp).value()
#define ASSERT_OK(expr)                        \
  do {                                         \
    const ::absl::Status st_ = (expr);         \
    ASSERT_TRUE(st_.ok()) << st_.ToString();   \
  } while (0)
#define EXPECT_OK(expr)                        \
  do {                                         \
    const ::absl::Status st_ = (expr);         \
    EXPECT_TRUE(st_.ok()) << st_.ToString();   \
  } while (0)

// A fresh temporary directory, removed (with everything in it) at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "de-srvtest-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The first column of the first row of `sql` as an integer; -1 if there is no row or the SQL fails.
inline int64_t QueryInt(store::Db* db, const std::string& sql) {
  auto stmt = db->Prepare(sql);
  if (!stmt.ok()) {
    ADD_FAILURE() << stmt.status();
    return -1;
  }
  auto row = (*stmt)->Step();
  if (!row.ok()) {
    ADD_FAILURE() << row.status();
    return -1;
  }
  return *row ? (*stmt)->Int(0) : -1;
}

inline bool TableExists(store::Db* db, const std::string& table) {
  if (db->dialect() == store::Dialect::kPostgres) {
    return QueryInt(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                        "current_schema() AND table_name = '" + table + "'") == 1;
  }
  return QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                          table + "'") == 1;
}

}  // namespace de::testing_util
