#include "engine/ops/clean_checks.h"

#include "engine/ops/clean_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/clean_test_util.h"

namespace de::engine {
namespace {

using testing::Int64s;
using testing::Strings;

Batch MakeBatch() {
  Batch b;
  b.columns.push_back(Strings({"JFK", "LAX", "JFK", std::nullopt, "jfk", "LAX"}));
  b.columns.push_back(Int64s({1, 2, 1, 4, 500, 2}));
  b.num_rows = 6;
  return b;
}
const Schema kSchema = {{"origin", Type::kString}, {"delay", Type::kInt64}};

TEST(CleanKeysTest, EqualKeysHashEqualAndTypesDiffer) {
  Batch b = MakeBatch();
  std::vector<Key128> k;
  std::vector<uint8_t> nulls;
  HashKeys(b, {0, 1}, Selection::All(6), &k, &nulls);
  EXPECT_EQ(k[0], k[2]);
  EXPECT_EQ(k[1], k[5]);
  EXPECT_FALSE(k[0] == k[1]);
  EXPECT_FALSE(k[0] == k[4]);
  EXPECT_EQ(nulls[3], 1);
  // "1" as a string is not 1 as an int.
  Batch s;
  s.columns.push_back(Strings({"1"}));
  s.columns.push_back(Int64s({1}));
  s.num_rows = 1;
  std::vector<Key128> a, c;
  HashKeys(s, {0}, Selection::All(1), &a);
  HashKeys(s, {1}, Selection::All(1), &c);
  EXPECT_FALSE(a[0] == c[0]);
}

TEST(CleanKeysTest, KeySetAndPositions) {
  KeySet set;
  EXPECT_TRUE(set.Insert({1, 2}));
  EXPECT_FALSE(set.Insert({1, 2}));
  EXPECT_TRUE(set.Insert({2, 1}));
  EXPECT_EQ(set.size(), 2);
  KeyPositions first(false), last(true);
  for (uint64_t pos : {5u, 3u, 9u}) {
    first.Offer({7, 7}, pos);
    last.Offer({7, 7}, pos);
  }
  EXPECT_TRUE(first.IsKept({7, 7}, 3));
  EXPECT_FALSE(first.IsKept({7, 7}, 5));
  EXPECT_TRUE(last.IsKept({7, 7}, 9));
  EXPECT_FALSE(last.IsKept({8, 8}, 9));
}

CheckSpec Spec(CheckSpec::Kind k, std::vector<std::string> cols) {
  CheckSpec c;
  c.kind = k;
  c.columns = std::move(cols);
  return c;
}

TEST(CleanChecksTest, CountsFailingRows) {
  using K = CheckSpec::Kind;
  std::vector<CheckSpec> specs;
  specs.push_back(Spec(K::kNotNull, {"origin"}));
  specs.push_back(Spec(K::kUnique, {"origin", "delay"}));
  auto av = Spec(K::kAcceptedValues, {"origin"});
  av.values = {"JFK", "LAX"};
  specs.push_back(av);
  auto range = Spec(K::kRange, {"delay"});
  range.min = "0";
  range.max = "100";
  specs.push_back(range);
  auto re = Spec(K::kRegex, {"origin"});
  re.pattern = "^[A-Z]{3}$";
  specs.push_back(re);
  auto rc = Spec(K::kRowCount, {});
  rc.min = "10";
  rc.severity = Severity::kWarn;
  specs.push_back(rc);
  auto runner = CheckRunner::Create(specs, kSchema);
  ASSERT_TRUE(runner.ok()) << runner.status();
  Batch b = MakeBatch();
  (*runner)->Update(b, Selection::All(6));
  auto res = (*runner)->Finish(6);
  ASSERT_EQ(res.size(), 6u);
  EXPECT_EQ(res[0].name, "not_null(origin)");
  EXPECT_EQ(res[0].failing_rows, 1);
  EXPECT_EQ(res[1].name, "unique(origin, delay)");
  EXPECT_EQ(res[1].failing_rows, 2);  // JFK/1 and LAX/2 again; the null key is ignored
  EXPECT_EQ(res[2].failing_rows, 1);  // jfk
  EXPECT_EQ(res[3].failing_rows, 1);  // 500
  EXPECT_EQ(res[4].failing_rows, 1);  // jfk
  EXPECT_EQ(res[5].failing_rows, 1);
  EXPECT_FALSE(res[5].passed);
  EXPECT_EQ(res[5].severity, Severity::kWarn);
  EXPECT_EQ(res[5].detail, "6 rows written, expected >= 10");
  std::string json = CheckResultsJson(res);
  EXPECT_NE(json.find("{\"check\":\"not_null(origin)\",\"severity\":\"error\",\"failing_rows\":1"),
            std::string::npos) << json;
}

TEST(CleanChecksTest, RespectsSelection) {
  auto runner = CheckRunner::Create({Spec(CheckSpec::Kind::kNotNull, {"origin"})}, kSchema);
  ASSERT_TRUE(runner.ok());
  Batch b = MakeBatch();
  (*runner)->Update(b, Selection::Of({0, 1, 2}));
  EXPECT_EQ((*runner)->Finish(3)[0].failing_rows, 0);
}

TEST(CleanChecksTest, BadSpecsAreClearErrors) {
  auto r1 = CheckRunner::Create({Spec(CheckSpec::Kind::kNotNull, {"orgin"})}, kSchema);
  EXPECT_THAT(r1.status().message(), ::testing::HasSubstr("no column 'orgin'"));
  auto range = Spec(CheckSpec::Kind::kRange, {"delay"});
  range.min = "abc";
  auto r2 = CheckRunner::Create({range}, kSchema);
  EXPECT_THAT(r2.status().message(), ::testing::HasSubstr("min 'abc' is not a int64"));
  auto re = Spec(CheckSpec::Kind::kRegex, {"origin"});
  re.pattern = "([";
  auto r3 = CheckRunner::Create({re}, kSchema);
  EXPECT_THAT(r3.status().message(), ::testing::HasSubstr("bad pattern"));
}

}  // namespace
}  // namespace de::engine
