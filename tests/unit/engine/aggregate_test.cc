// Aggregate functions, the hash group-by and time buckets over in-memory batches.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops/aggregate_function.h"
#include "engine/ops/hash_aggregate.h"
#include "engine/ops/time_bucket.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

using OptI = std::optional<int64_t>;
using OptD = std::optional<double>;
using OptS = std::optional<std::string>;

Column Ints(const std::vector<OptI>& v, Type t = Type::kInt64) {
  Column c;
  c.type = t;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    if (t == Type::kInt32 || t == Type::kDate) c.i32.push_back(static_cast<int32_t>(x.value_or(0)));
    else if (t == Type::kBool) c.u8.push_back(static_cast<uint8_t>(x.value_or(0)));
    else c.i64.push_back(x.value_or(0));
  }
  return c;
}
Column Doubles(const std::vector<OptD>& v) {
  Column c;
  c.type = Type::kDouble;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    c.f64.push_back(x.value_or(0));
  }
  return c;
}
Column Strs(const std::vector<OptS>& v) {
  Column c;
  c.type = Type::kString;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    if (x) c.bytes += *x;
    c.offsets.push_back(static_cast<uint32_t>(c.bytes.size()));
  }
  return c;
}

struct Table {
  Schema schema;
  Batch batch;
  void Add(const std::string& name, Column c) {
    schema.push_back(Field{name, c.type, true});
    batch.num_rows = c.size();
    batch.columns.push_back(std::move(c));
  }
};

std::vector<MetricSpec> Metrics(const std::vector<std::pair<std::string, std::string>>& m) {
  std::vector<MetricSpec> out;
  for (const auto& [name, text] : m) {
    auto call = ParseAggregateCall(text);
    EXPECT_TRUE(call.ok()) << call.status();
    out.push_back({name, *call});
  }
  return out;
}

// Runs the aggregation, splitting the rows over `parts` partial tables that are then merged.
absl::StatusOr<Batch> Aggregate(const Table& t, const std::vector<GroupKeySpec>& keys,
                                const std::vector<std::pair<std::string, std::string>>& metrics,
                                int parts = 1, AggregateLimits limits = {}) {
  auto plan = PlanAggregate(t.schema, keys, Metrics(metrics), limits);
  if (!plan.ok()) return plan.status();
  std::vector<std::unique_ptr<HashAggregate>> tables;
  for (int p = 0; p < parts; ++p) tables.push_back(std::make_unique<HashAggregate>(*plan));
  for (int p = 0; p < parts; ++p) {
    std::vector<uint32_t> rows;
    for (uint32_t r = 0; r < t.batch.num_rows; ++r) {
      if (static_cast<int>(r % parts) == p) rows.push_back(r);
    }
    Selection sel = parts == 1 ? Selection::All(t.batch.num_rows) : Selection::Of(rows);
    absl::Status st = tables[p]->Consume(t.batch, sel);
    if (!st.ok()) return st;
  }
  for (int p = 1; p < parts; ++p) {
    absl::Status st = tables[0]->Merge(*tables[p]);
    if (!st.ok()) return st;
  }
  return tables[0]->Finish();
}

// Finds the output row whose first (string) key is `key` ("" + !valid for null).
int RowOf(const Batch& b, const OptS& key) {
  for (size_t r = 0; r < b.num_rows; ++r) {
    const Column& c = b.columns[0];
    if (!key && !c.valid[r]) return static_cast<int>(r);
    if (key && c.valid[r] && c.str(r) == *key) return static_cast<int>(r);
  }
  return -1;
}

Table Flights() {
  Table t;
  t.Add("origin", Strs({"JFK", "LAX", "JFK", std::nullopt, "LAX", "JFK", std::nullopt}));
  t.Add("delay", Ints({10, std::nullopt, 30, 5, std::nullopt, -4, 7}));
  t.Add("distance", Ints({100, 200, 100, 50, 300, 150, 60}, Type::kInt32));
  t.Add("speed", Doubles({1.5, 2.5, std::nullopt, 0.5, 3.0, 4.0, std::nullopt}));
  return t;
}

class AggregateTest : public ::testing::TestWithParam<int> {};

TEST_P(AggregateTest, EveryFunctionPerGroupWithNullKeyGroup) {
  Table t = Flights();
  auto out = Aggregate(t, {{"origin"}},
                       {{"n", "count(*)"}, {"nd", "count(delay)"}, {"sd", "sum(delay)"},
                        {"sdist", "sum(distance)"}, {"mn", "min(delay)"}, {"mx", "max(speed)"},
                        {"av", "avg(delay)"}, {"cd", "count_distinct(distance)"},
                        {"q", "quantile(distance, 0.5)"}, {"qc", "quantile_cont(delay, 0.5)"},
                        {"ss", "sum(speed)"}},
                       GetParam());
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->num_rows, 3u);
  ASSERT_EQ(out->columns.size(), 12u);
  int jfk = RowOf(*out, "JFK"), lax = RowOf(*out, "LAX"), nul = RowOf(*out, std::nullopt);
  ASSERT_GE(jfk, 0);
  ASSERT_GE(lax, 0);
  ASSERT_GE(nul, 0);
  const auto& c = out->columns;
  EXPECT_EQ(c[1].i64[jfk], 3);
  EXPECT_EQ(c[1].i64[lax], 2);
  EXPECT_EQ(c[1].i64[nul], 2);
  EXPECT_EQ(c[2].i64[lax], 0);           // count(col) of all nulls is 0
  EXPECT_EQ(c[3].i64[jfk], 36);
  EXPECT_FALSE(c[3].valid[lax]);         // sum of all nulls is null
  EXPECT_EQ(c[4].type, Type::kInt64);    // sum(int32) is int64
  EXPECT_EQ(c[4].i64[lax], 500);
  EXPECT_EQ(c[5].i64[jfk], -4);
  EXPECT_FALSE(c[5].valid[lax]);
  EXPECT_DOUBLE_EQ(c[6].f64[jfk], 4.0);
  EXPECT_DOUBLE_EQ(c[6].f64[lax], 3.0);
  EXPECT_DOUBLE_EQ(c[6].f64[nul], 0.5);
  EXPECT_EQ(c[7].type, Type::kDouble);
  EXPECT_DOUBLE_EQ(c[7].f64[jfk], 12.0);
  EXPECT_DOUBLE_EQ(c[7].f64[nul], 6.0);
  EXPECT_FALSE(c[7].valid[lax]);
  EXPECT_EQ(c[8].i64[jfk], 2);           // 100, 100, 150
  EXPECT_EQ(c[9].type, Type::kInt32);    // quantile keeps the input type
  EXPECT_EQ(c[9].i32[jfk], 100);
  EXPECT_DOUBLE_EQ(c[10].f64[jfk], 10.0);  // -4, 10, 30
  EXPECT_DOUBLE_EQ(c[10].f64[nul], 6.0);   // 5, 7 interpolated
  EXPECT_DOUBLE_EQ(c[11].f64[jfk], 5.5);
}

INSTANTIATE_TEST_SUITE_P(Parts, AggregateTest, ::testing::Values(1, 2, 3));

TEST(Aggregate, GlobalAggregateOverNoRowsHasOneRow) {
  Table t;
  t.Add("x", Ints({}));
  auto out = Aggregate(t, {}, {{"n", "count(*)"}, {"s", "sum(x)"}, {"m", "min(x)"}, {"a", "avg(x)"}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->num_rows, 1u);
  EXPECT_EQ(out->columns[0].i64[0], 0);
  EXPECT_FALSE(out->columns[1].valid[0]);
  EXPECT_FALSE(out->columns[2].valid[0]);
  EXPECT_FALSE(out->columns[3].valid[0]);
}

TEST(Aggregate, GroupByOverNoRowsHasNoRows) {
  Table t;
  t.Add("k", Strs({}));
  auto out = Aggregate(t, {{"k"}}, {{"n", "count(*)"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows, 0u);
}

TEST(Aggregate, SumOverflowIsAClearError) {
  Table t;
  const int64_t big = std::numeric_limits<int64_t>::max() - 1;
  t.Add("x", Ints({big, 5}));
  auto out = Aggregate(t, {}, {{"total", "sum(x)"}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(out.status().message().find("metric 'total' (sum(x))"), std::string::npos);
  EXPECT_NE(out.status().message().find("overflows int64"), std::string::npos);
  // Overflow found only when partial sums combine.
  out = Aggregate(t, {}, {{"total", "sum(x)"}}, 2);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("overflows"), std::string::npos);
  // avg is exact in 128 bits: no overflow.
  out = Aggregate(t, {}, {{"a", "avg(x)"}});
  ASSERT_TRUE(out.ok());
  EXPECT_DOUBLE_EQ(out->columns[0].f64[0], (static_cast<double>(big) + 5) / 2);
}

TEST(Aggregate, DecimalsStayExact) {
  Table t;
  Column k = Strs({"a", "a", "b", "a"});
  Column d = Ints({10, 20, std::nullopt, 5}, Type::kDecimal);  // 0.10, 0.20, null, 0.05
  d.scale = 2;
  t.Add("k", std::move(k));
  t.Add("d", std::move(d));
  t.schema[1].precision = 9;
  t.schema[1].scale = 2;
  auto plan = PlanAggregate(t.schema, {{"k"}},
                            Metrics({{"s", "sum(d)"}, {"a", "avg(d)"}, {"m", "max(d)"}}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ((*plan)->output_schema[1].type, Type::kDecimal);
  EXPECT_EQ((*plan)->output_schema[1].precision, 18);
  EXPECT_EQ((*plan)->output_schema[1].scale, 2);
  EXPECT_EQ((*plan)->output_schema[3].precision, 9);
  auto out = Aggregate(t, {{"k"}}, {{"s", "sum(d)"}, {"a", "avg(d)"}, {"m", "max(d)"}}, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  int a = RowOf(*out, "a"), b = RowOf(*out, "b");
  EXPECT_EQ(out->columns[1].i64[a], 35);     // 0.35 exactly
  EXPECT_EQ(out->columns[1].scale, 2);
  EXPECT_FALSE(out->columns[1].valid[b]);
  EXPECT_DOUBLE_EQ(out->columns[2].f64[a], 0.35 / 3);
  EXPECT_EQ(out->columns[3].i64[a], 20);
}

TEST(Aggregate, MinMaxOfEveryType) {
  Table t;
  t.Add("s", Strs({"pear", "apple", std::nullopt, "zoë"}));
  t.Add("d", Ints({19000, 18000, 20000, std::nullopt}, Type::kDate));
  t.Add("ts", Ints({5, -7, std::nullopt, 3}, Type::kTimestamp));
  t.Add("b", Ints({0, 1, 0, std::nullopt}, Type::kBool));
  t.Add("f", Doubles({1.0, std::nan(""), -2.0, std::nullopt}));
  auto out = Aggregate(t, {}, {{"a", "min(s)"}, {"b_", "max(s)"}, {"c", "min(d)"},
                               {"e", "max(ts)"}, {"g", "max(b)"}, {"h", "min(b)"},
                               {"i", "min(f)"}, {"j", "max(f)"}});
  ASSERT_TRUE(out.ok()) << out.status();
  const auto& c = out->columns;
  EXPECT_EQ(c[0].str(0), "apple");
  EXPECT_EQ(c[1].str(0), "zoë");
  EXPECT_EQ(c[2].type, Type::kDate);
  EXPECT_EQ(c[2].i32[0], 18000);
  EXPECT_EQ(c[3].type, Type::kTimestamp);
  EXPECT_EQ(c[3].i64[0], 5);
  EXPECT_EQ(c[4].u8[0], 1);
  EXPECT_EQ(c[5].u8[0], 0);
  EXPECT_DOUBLE_EQ(c[6].f64[0], -2.0);
  EXPECT_TRUE(std::isnan(c[7].f64[0]));  // NaN sorts above numbers
}

TEST(Aggregate, CountDistinctStringsAndDoubles) {
  Table t;
  t.Add("k", Ints({1, 1, 1, 2, 2, 1}));
  t.Add("s", Strs({"a", "a", "a long string past sso", std::nullopt, "x", "a long string past sso"}));
  t.Add("f", Doubles({0.0, -0.0, 1.5, 1.5, std::nullopt, 2.0}));
  for (int parts : {1, 2}) {
    auto out = Aggregate(t, {{"k"}}, {{"s", "count_distinct(s)"}, {"f", "count_distinct(f)"}}, parts);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->num_rows, 2u);
    int one = out->columns[0].i64[0] == 1 ? 0 : 1;
    EXPECT_EQ(out->columns[1].i64[one], 2);
    EXPECT_EQ(out->columns[1].i64[1 - one], 1);
    EXPECT_EQ(out->columns[2].i64[one], 3);     // 0 and -0 are one value
    EXPECT_EQ(out->columns[2].i64[1 - one], 1);
  }
}

TEST(Aggregate, QuantilesMatchDuckDbDefinitions) {
  Table t;
  std::vector<OptI> v;
  for (int i = 10; i >= 1; --i) v.push_back(i * 10);  // 10..100
  t.Add("x", Ints(v));
  auto out = Aggregate(t, {}, {{"q0", "quantile(x, 0)"}, {"q1", "quantile(x, 1)"},
                               {"q95", "quantile(x, 0.95)"}, {"q5", "quantile_disc(x, 0.5)"},
                               {"c95", "quantile_cont(x, 0.95)"}, {"med", "median(x)"}});
  ASSERT_TRUE(out.ok()) << out.status();
  const auto& c = out->columns;
  EXPECT_EQ(c[0].i64[0], 10);
  EXPECT_EQ(c[1].i64[0], 100);
  EXPECT_EQ(c[2].i64[0], 100);   // index ceil(9.5) - 1 = 9
  EXPECT_EQ(c[3].i64[0], 50);    // index 4
  EXPECT_DOUBLE_EQ(c[4].f64[0], 95.5);  // 90 + 0.55 * 10
  EXPECT_DOUBLE_EQ(c[5].f64[0], 55.0);
}

TEST(Aggregate, SeveralKeysIncludingNullsBoolsAndDoubles) {
  Table t;
  t.Add("a", Ints({1, 1, std::nullopt, std::nullopt, 1}, Type::kInt32));
  t.Add("b", Ints({1, 0, 1, 1, 1}, Type::kBool));
  t.Add("f", Doubles({0.0, 0.0, 2.0, 2.0, -0.0}));
  auto out = Aggregate(t, {{"a"}, {"b"}, {"f"}}, {{"n", "count(*)"}}, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->num_rows, 3u);
  int64_t total = 0;
  for (size_t r = 0; r < 3; ++r) total += out->columns[3].i64[r];
  EXPECT_EQ(total, 5);
  for (size_t r = 0; r < 3; ++r) {
    if (out->columns[0].valid[r] && out->columns[1].u8[r] == 1) EXPECT_EQ(out->columns[3].i64[r], 2);
    if (!out->columns[0].valid[r]) EXPECT_EQ(out->columns[3].i64[r], 2);
  }
}

TEST(Aggregate, ManyGroupsGrowTheTableAndMerge) {
  Table t;
  std::vector<OptS> keys;
  std::vector<OptI> vals;
  for (int i = 0; i < 50000; ++i) {
    keys.push_back("k" + std::to_string(i % 7001));
    vals.push_back(i);
  }
  t.Add("k", Strs(keys));
  t.Add("v", Ints(vals));
  auto out = Aggregate(t, {{"k"}}, {{"n", "count(*)"}, {"s", "sum(v)"}}, 3);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->num_rows, 7001u);
  int64_t n = 0, s = 0;
  for (size_t r = 0; r < out->num_rows; ++r) {
    n += out->columns[1].i64[r];
    s += out->columns[2].i64[r];
  }
  EXPECT_EQ(n, 50000);
  EXPECT_EQ(s, 49999ll * 50000 / 2);
}

TEST(Aggregate, MaxGroupsAndMemoryLimitsAreClearErrors) {
  Table t;
  std::vector<OptI> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  t.Add("k", Ints(v));
  AggregateLimits limits;
  limits.max_groups = 10;
  auto out = Aggregate(t, {{"k"}}, {{"n", "count(*)"}}, 1, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("max_groups=10"), std::string::npos);
  limits = {};
  limits.max_memory_bytes = 1000;
  out = Aggregate(t, {{"k"}}, {{"n", "count(*)"}}, 2, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("max_memory=1000"), std::string::npos);
}

TEST(Aggregate, PlanErrorsNameTheMetricOrKey) {
  Table t = Flights();
  auto plan = PlanAggregate(t.schema, {{"orign"}}, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("did you mean origin?"), std::string::npos);
  auto bind = [&](const std::string& text) {
    auto call = ParseAggregateCall(text);
    if (!call.ok()) return call.status();
    return PlanAggregate(t.schema, {}, {{"m", *call}}).status();
  };
  EXPECT_NE(bind("summ(delay)").message().find("did you mean sum?"), std::string::npos);
  EXPECT_NE(bind("sum(delya)").message().find("did you mean delay?"), std::string::npos);
  EXPECT_NE(bind("sum(origin)").message().find("sum needs an int32, int64, decimal or double column, not string"),
            std::string::npos);
  EXPECT_NE(bind("avg(origin)").message().find("metrics: 'm'"), std::string::npos);
  EXPECT_NE(bind("quantile(delay)").message().find("needs a fraction"), std::string::npos);
  EXPECT_NE(bind("quantile(delay, 1.5)").message().find("between 0 and 1"), std::string::npos);
  EXPECT_NE(bind("sum(*)").message().find("sum(*) is not allowed"), std::string::npos);
  EXPECT_NE(bind("count").message().find("not a function call"), std::string::npos);
  EXPECT_NE(bind("quantile(delay, x)").message().find("'x' is not a number"), std::string::npos);
  EXPECT_TRUE(bind("count(\"delay\")").ok());
  auto dup = PlanAggregate(t.schema, {{"origin"}}, Metrics({{"origin", "count(*)"}}));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("named twice"), std::string::npos);
  auto bucket = PlanAggregate(t.schema, {{"origin", TimeBucket::kDay, ""}}, {});
  ASSERT_FALSE(bucket.ok());
  EXPECT_NE(bucket.status().message().find("needs a date or timestamp column"), std::string::npos);
}

TEST(TimeBucket, TruncatesLikeDateTrunc) {
  // 2024-03-14 (Thursday) = 19796 days.
  EXPECT_EQ(TruncateDays(19796, TimeBucket::kDay), 19796);
  EXPECT_EQ(TruncateDays(19796, TimeBucket::kWeek), 19793);    // Monday 2024-03-11
  EXPECT_EQ(TruncateDays(19793, TimeBucket::kWeek), 19793);
  EXPECT_EQ(TruncateDays(19792, TimeBucket::kWeek), 19786);    // Sunday -> previous Monday
  EXPECT_EQ(TruncateDays(19796, TimeBucket::kMonth), 19783);   // 2024-03-01
  EXPECT_EQ(TruncateDays(19796, TimeBucket::kYear), 19723);    // 2024-01-01
  EXPECT_EQ(TruncateDays(0, TimeBucket::kWeek), -3);           // 1969-12-29 Monday
  EXPECT_EQ(TruncateDays(-1, TimeBucket::kMonth), -31);        // 1969-12-01
  EXPECT_EQ(TruncateDays(19782, TimeBucket::kMonth), 19754);   // 2024-02-29 -> 2024-02-01
  const int64_t us = 19796ll * 86400000000 + 13 * 3600000000ll + 5 * 60000000ll + 7;
  EXPECT_EQ(TruncateMicros(us, TimeBucket::kHour), 19796ll * 86400000000 + 13 * 3600000000ll);
  EXPECT_EQ(TruncateMicros(us, TimeBucket::kDay), 19796ll * 86400000000);
  EXPECT_EQ(TruncateMicros(us, TimeBucket::kMonth), 19783ll * 86400000000);
  EXPECT_EQ(TruncateMicros(-1, TimeBucket::kHour), -3600000000ll);
  EXPECT_EQ(TruncateMicros(-1, TimeBucket::kDay), -86400000000ll);
}

TEST(TimeBucket, GroupByBuckets) {
  Table t;
  const int64_t day = 86400000000ll;
  t.Add("ts", Ints({19796 * day + 5, 19796 * day + 7200000000ll, 19797 * day, std::nullopt},
                   Type::kTimestamp));
  t.Add("d", Ints({19796, 19797, 19800, 19801}, Type::kDate));
  auto out = Aggregate(t, {{"ts", TimeBucket::kDay, "day"}}, {{"n", "count(*)"}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->num_rows, 3u);  // two days and null
  EXPECT_EQ(out->columns[0].type, Type::kTimestamp);
  out = Aggregate(t, {{"ts", TimeBucket::kHour, ""}}, {{"n", "count(*)"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows, 4u);
  out = Aggregate(t, {{"d", TimeBucket::kWeek, "w"}}, {{"n", "count(*)"}});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->num_rows, 2u);  // 03-14, 03-15 -> 03-11; 03-18 (Mon), 03-19 -> 03-18
  EXPECT_EQ(out->columns[0].type, Type::kDate);
  EXPECT_EQ(out->columns[0].i32[0], 19793);
  EXPECT_EQ(out->columns[1].i64[0], 2);
}

}  // namespace
}  // namespace de::engine
