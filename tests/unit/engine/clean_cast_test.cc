#include "engine/ops/clean_cast.h"

#include "engine/csv/csv_values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/clean_test_util.h"

namespace de::engine {
namespace {

using ::testing::ElementsAre;
using testing::Strings;
using testing::Values;

std::vector<uint32_t> Rows(const std::vector<CastFailure>& f) {
  std::vector<uint32_t> r;
  for (const auto& x : f) r.push_back(x.row);
  return r;
}

TEST(CleanCastTest, StringToInt32ChecksRange) {
  Column c = Strings({"12", "-7", "abc", std::nullopt, "99999999999", "2147483647", " 5"});
  Column scratch;
  std::vector<CastFailure> f;
  CastColumn(&c, Type::kInt32, &f, &scratch);
  ASSERT_EQ(c.type, Type::kInt32);
  EXPECT_THAT(Rows(f), ElementsAre(2u, 4u, 6u));
  EXPECT_EQ(f[0].value, "abc");
  EXPECT_EQ(c.i32[0], 12);
  EXPECT_EQ(c.i32[1], -7);
  EXPECT_EQ(c.i32[5], 2147483647);
  EXPECT_THAT(c.valid, ElementsAre(1, 1, 0, 0, 0, 1, 0));
}

TEST(CleanCastTest, StringToOtherTypes) {
  Column scratch;
  std::vector<CastFailure> f;
  Column d = Strings({"1.5", "1e3", "x"});
  CastColumn(&d, Type::kDouble, &f, &scratch);
  EXPECT_DOUBLE_EQ(d.f64[0], 1.5);
  EXPECT_DOUBLE_EQ(d.f64[1], 1000);
  EXPECT_THAT(Rows(f), ElementsAre(2u));
  f.clear();
  Column b = Strings({"TRUE", "false", "yes"});
  CastColumn(&b, Type::kBool, &f, &scratch);
  EXPECT_THAT(b.u8, ElementsAre(1, 0, 0));
  EXPECT_THAT(Rows(f), ElementsAre(2u));
  f.clear();
  Column dt = Strings({"2024-02-29", "2023-02-29"});
  CastColumn(&dt, Type::kDate, &f, &scratch);
  EXPECT_EQ(FormatDate(dt.i32[0]), "2024-02-29");
  EXPECT_THAT(Rows(f), ElementsAre(1u));
  f.clear();
  Column ts = Strings({"2024-01-02 03:04:05.5", "2024-01-02T03:04:05+01:00"});
  CastColumn(&ts, Type::kTimestamp, &f, &scratch);
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(FormatTimestamp(ts.i64[0]), "2024-01-02 03:04:05.500000");
  EXPECT_EQ(FormatTimestamp(ts.i64[1]), "2024-01-02 02:04:05");
}

TEST(CleanCastTest, NumericWideningAndNarrowing) {
  Column scratch;
  std::vector<CastFailure> f;
  Column c = testing::Int64s({1, 3000000000ll, std::nullopt, -5});
  CastColumn(&c, Type::kInt32, &f, &scratch);
  EXPECT_THAT(Rows(f), ElementsAre(1u));
  EXPECT_THAT(c.i32, ElementsAre(1, 0, 0, -5));
  f.clear();
  CastColumn(&c, Type::kDouble, &f, &scratch);
  EXPECT_THAT(c.f64, ElementsAre(1.0, 0.0, 0.0, -5.0));
  EXPECT_THAT(c.valid, ElementsAre(1, 0, 0, 1));
  Column d = testing::Doubles({2.5, 3.5, -2.5, 1e300, 7.4});
  CastColumn(&d, Type::kInt64, &f, &scratch);
  EXPECT_THAT(Rows(f), ElementsAre(3u));
  EXPECT_EQ(d.i64[0], 2);   // ties to even, as DuckDB
  EXPECT_EQ(d.i64[1], 4);
  EXPECT_EQ(d.i64[2], -2);
  EXPECT_EQ(d.i64[4], 7);
}

TEST(CleanCastTest, ToStringAndDateTimestamp) {
  Column scratch;
  std::vector<CastFailure> f;
  Column c = testing::Int64s({42, std::nullopt});
  CastColumn(&c, Type::kString, &f, &scratch);
  EXPECT_THAT(Values(c), ElementsAre("42", "<null>"));
  int32_t day;
  ASSERT_TRUE(ParseCsvDate("2024-03-01", &day));
  Column d = testing::Int64s({day}, Type::kDate);
  CastColumn(&d, Type::kTimestamp, &f, &scratch);
  EXPECT_EQ(FormatTimestamp(d.i64[0]), "2024-03-01 00:00:00");
  d.i64[0] -= 1;  // one microsecond before midnight: the previous day
  CastColumn(&d, Type::kDate, &f, &scratch);
  EXPECT_EQ(FormatDate(d.i32[0]), "2024-02-29");
  Column dbl = testing::Doubles({0.1});
  CastColumn(&dbl, Type::kString, &f, &scratch);
  EXPECT_EQ(dbl.str(0), "0.1");
  EXPECT_TRUE(f.empty());
}

TEST(CleanCastTest, CanCastRefusesNonsense) {
  EXPECT_TRUE(CanCast(Type::kString, Type::kDate));
  EXPECT_TRUE(CanCast(Type::kInt64, Type::kInt32));
  EXPECT_FALSE(CanCast(Type::kInt64, Type::kDate));
  EXPECT_FALSE(CanCast(Type::kDate, Type::kDouble));
  EXPECT_EQ(CastReason("delay", "abc", Type::kInt32), "cast delay 'abc' to int32");
}

}  // namespace
}  // namespace de::engine
