// The expression language: evaluation semantics (nulls, every operator and type, like, overflow).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/ops/expr.h"
#include "tests/unit/engine/expr_test_util.h"

namespace de::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing_util;  // NOLINT

// Rows: 0..5. Nulls sprinkled so every operator meets them.
Schema TestSchema() {
  return {{"origin", Type::kString}, {"distance", Type::kInt64}, {"delay", Type::kDouble},
          {"dt", Type::kDate},       {"ts", Type::kTimestamp},   {"cancelled", Type::kBool},
          {"dep", Type::kInt32},     {"p", Type::kBool},         {"q", Type::kBool}};
}

Batch TestBatch() {
  return MakeBatch({
      StringColumn({"JFK", "LAX", std::nullopt, "SFO", "jfk", "Zürich"}),
      IntColumn({100, 600, 750, std::nullopt, 0, -20}),
      DoubleColumn({1.5, -3.0, std::nullopt, 10.0, 0.0, 500.25}),
      DateColumn({"2024-01-31", "2024-02-01", "2023-12-31", std::nullopt, "2024-01-01",
                  "2024-03-01"}),
      TimestampColumn({"2024-01-31 10:00:00", "2024-01-31 09:59:59", std::nullopt,
                       "2024-02-01 00:00:00", "2024-01-01 00:00:00", "2024-01-31 10:00:00.5"}),
      IntColumn({1, 0, std::nullopt, 0, 1, 0}, Type::kBool),
      IntColumn({5, 6, 7, 8, std::nullopt, 10}, Type::kInt32),
      // p, q: all nine combinations of true/false/null would need 9 rows; six cover the cases.
      IntColumn({1, 1, 0, std::nullopt, std::nullopt, 0}, Type::kBool),
      IntColumn({1, std::nullopt, std::nullopt, 0, std::nullopt, 0}, Type::kBool),
  });
}

// The rows `text` keeps out of `in` (default: all six), checked against Evaluate.
std::vector<uint32_t> Rows(std::string_view text, const Batch& batch = TestBatch(),
                           std::vector<uint32_t> in = {0, 1, 2, 3, 4, 5}) {
  auto b = CompilePredicate(text, TestSchema());
  EXPECT_TRUE(b.ok()) << text << ": " << b.status();
  if (!b.ok()) return {};
  Selection sel = in.size() == batch.num_rows ? Selection::All(in.size()) : Selection::Of(in);
  absl::Status st = (*b)->Filter(batch, &sel);
  EXPECT_TRUE(st.ok()) << text << ": " << st;
  std::vector<uint32_t> out;
  for (size_t i = 0; i < sel.size(); ++i) out.push_back(sel[i]);
  Column c;
  st = (*b)->Evaluate(batch, &c);
  EXPECT_TRUE(st.ok()) << st;
  std::vector<uint32_t> trues;
  for (uint32_t r : in) {
    if (c.valid[r] && c.u8[r]) trues.push_back(r);
  }
  EXPECT_EQ(trues, out) << "Evaluate and Filter disagree on " << text;
  return out;
}

// "t", "f" or "n" (null) per row, from Evaluate.
std::string Truth(std::string_view text) {
  auto e = ParseExpr(text);
  EXPECT_TRUE(e.ok()) << e.status();
  auto b = BoundExpr::Bind(*e, TestSchema());
  EXPECT_TRUE(b.ok()) << text << ": " << b.status();
  Column c;
  EXPECT_TRUE((*b)->Evaluate(TestBatch(), &c).ok());
  std::string out;
  for (size_t r = 0; r < c.size(); ++r) out += !c.valid[r] ? 'n' : c.u8[r] ? 't' : 'f';
  return out;
}

TEST(ExprEvalTest, ThreeValuedLogic) {
  // p = t t f n n f ; q = t n n f n f
  EXPECT_EQ(Truth("p and q"), "tnffnf");
  EXPECT_EQ(Truth("p or q"), "ttnnnf");
  EXPECT_EQ(Truth("not p"), "fftnnt");
  EXPECT_EQ(Truth("not (p and q)"), "fnttnt");
  EXPECT_EQ(Truth("not (p or q)"), "ffnnnt");
  EXPECT_EQ(Truth("p is null"), "fffttf");
  EXPECT_EQ(Truth("p is not null"), "tttfft");
  EXPECT_EQ(Truth("p = q"), "tnnnnt");
  EXPECT_EQ(Truth("p and null"), "nnfnnf");
  EXPECT_EQ(Truth("p or null"), "ttnnnn");
  EXPECT_EQ(Truth("null"), "nnnnnn");
  // A filter keeps only true rows.
  EXPECT_THAT(Rows("p and q"), ElementsAre(0));
  EXPECT_THAT(Rows("p or q"), ElementsAre(0, 1));
  EXPECT_THAT(Rows("not (p or q)"), ElementsAre(5));
  EXPECT_THAT(Rows("not (p and q)"), ElementsAre(2, 3, 5));
  EXPECT_THAT(Rows("not not p"), ElementsAre(0, 1));
  EXPECT_THAT(Rows("null"), ElementsAre());
  EXPECT_THAT(Rows("true"), ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_THAT(Rows("not false"), ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(ExprEvalTest, ComparisonsWithNullAreNull) {
  EXPECT_EQ(Truth("distance > 100"), "fttnff");
  EXPECT_EQ(Truth("distance = null"), "nnnnnn");
  EXPECT_EQ(Truth("null <> distance"), "nnnnnn");
  EXPECT_THAT(Rows("distance != 100"), ElementsAre(1, 2, 4, 5));
  EXPECT_THAT(Rows("not (distance = 100)"), ElementsAre(1, 2, 4, 5));
  EXPECT_THAT(Rows("distance is null or distance < 0"), ElementsAre(3, 5));
}

TEST(ExprEvalTest, IntegerComparisons) {
  EXPECT_THAT(Rows("distance > 500"), ElementsAre(1, 2));
  EXPECT_THAT(Rows("distance >= 600"), ElementsAre(1, 2));
  EXPECT_THAT(Rows("distance < 100"), ElementsAre(4, 5));
  EXPECT_THAT(Rows("distance <= 100"), ElementsAre(0, 4, 5));
  EXPECT_THAT(Rows("distance == 750"), ElementsAre(2));
  EXPECT_THAT(Rows("distance <> 750"), ElementsAre(0, 1, 4, 5));
  EXPECT_THAT(Rows("500 < distance"), ElementsAre(1, 2));  // literal on the left
  EXPECT_THAT(Rows("dep > 6"), ElementsAre(2, 3, 5));
  EXPECT_THAT(Rows("dep > 6.5"), ElementsAre(2, 3, 5));  // int vs double, numerically
  EXPECT_THAT(Rows("dep = 7.0"), ElementsAre(2));
  EXPECT_THAT(Rows("distance > dep"), ElementsAre(0, 1, 2));
  EXPECT_THAT(Rows("distance > delay"), ElementsAre(0, 1));
  EXPECT_THAT(Rows("dep < distance + 0"), ElementsAre(0, 1, 2));
}

TEST(ExprEvalTest, DoubleAndStringComparisons) {
  EXPECT_THAT(Rows("delay > 1"), ElementsAre(0, 3, 5));
  EXPECT_THAT(Rows("delay <= 0"), ElementsAre(1, 4));
  EXPECT_THAT(Rows("delay = 500.25"), ElementsAre(5));
  EXPECT_THAT(Rows("origin = 'JFK'"), ElementsAre(0));
  EXPECT_THAT(Rows("origin > 'K'"), ElementsAre(1, 3, 4, 5));
  EXPECT_THAT(Rows("origin < 'K'"), ElementsAre(0));
  EXPECT_THAT(Rows("'LAX' = origin"), ElementsAre(1));
  EXPECT_THAT(Rows("origin != 'JFK'"), ElementsAre(1, 3, 4, 5));
  EXPECT_THAT(Rows("\"origin\" = 'Zürich'"), ElementsAre(5));
}

TEST(ExprEvalTest, DatesAndTimestamps) {
  EXPECT_THAT(Rows("dt >= '2024-01-01' and dt < '2024-02-01'"), ElementsAre(0, 4));
  EXPECT_THAT(Rows("dt = date '2024-01-31'"), ElementsAre(0));
  EXPECT_THAT(Rows("dt between '2024-01-01' and '2024-01-31'"), ElementsAre(0, 4));
  EXPECT_THAT(Rows("dt not between '2024-01-01' and '2024-01-31'"), ElementsAre(1, 2, 5));
  EXPECT_THAT(Rows("ts >= timestamp '2024-01-31 10:00:00'"), ElementsAre(0, 3, 5));
  EXPECT_THAT(Rows("ts < '2024-01-31 10:00:00'"), ElementsAre(1, 4));
  EXPECT_THAT(Rows("ts >= '2024-02-01'"), ElementsAre(3));
  EXPECT_THAT(Rows("ts < date '2024-01-31'"), ElementsAre(4));
  EXPECT_THAT(Rows("dt = timestamp '2024-01-01 00:00:00'"), ElementsAre(4));
  EXPECT_THAT(Rows("dt > ts"), ElementsAre(1, 5));  // date vs timestamp: the date's midnight
  EXPECT_THAT(Rows("dt in ('2024-01-31', date '2024-03-01')"), ElementsAre(0, 5));
}

TEST(ExprEvalTest, BoolColumnsArePredicates) {
  EXPECT_THAT(Rows("cancelled"), ElementsAre(0, 4));
  EXPECT_THAT(Rows("not cancelled"), ElementsAre(1, 3, 5));
  EXPECT_THAT(Rows("cancelled = false"), ElementsAre(1, 3, 5));
  EXPECT_THAT(Rows("cancelled is null"), ElementsAre(2));
  EXPECT_THAT(Rows("cancelled in (true)"), ElementsAre(0, 4));
}

TEST(ExprEvalTest, InLists) {
  EXPECT_THAT(Rows("origin in ('JFK', 'LAX')"), ElementsAre(0, 1));
  EXPECT_THAT(Rows("origin not in ('JFK', 'LAX')"), ElementsAre(3, 4, 5));
  EXPECT_THAT(Rows("distance in (0, 750, 12345)"), ElementsAre(2, 4));
  EXPECT_THAT(Rows("dep in (5, 6.0, 10)"), ElementsAre(0, 1, 5));
  EXPECT_THAT(Rows("delay in (1.5, -3)"), ElementsAre(0, 1));
  // A null in the list: no match is null, so `not in` keeps nothing.
  EXPECT_EQ(Truth("distance in (100, null)"), "tnnnnn");
  EXPECT_EQ(Truth("distance not in (100, null)"), "fnnnnn");
  EXPECT_THAT(Rows("distance not in (100, null)"), ElementsAre());
  EXPECT_THAT(Rows("not (distance in (100, null))"), ElementsAre());
  // Many values take the sorted path.
  EXPECT_THAT(Rows("distance in (1,2,3,4,5,6,7,8,9,10,600,-20)"), ElementsAre(1, 5));
  EXPECT_THAT(Rows("origin in ('a','b','c','d','e','f','g','h','i','SFO','jfk')"),
              ElementsAre(3, 4));
}

TEST(ExprEvalTest, Like) {
  EXPECT_THAT(Rows("origin like 'J%'"), ElementsAre(0));
  EXPECT_THAT(Rows("origin like '%K'"), ElementsAre(0));
  EXPECT_THAT(Rows("origin like '%F%'"), ElementsAre(0, 3));
  EXPECT_THAT(Rows("origin like 'LAX'"), ElementsAre(1));
  EXPECT_THAT(Rows("origin like '%'"), ElementsAre(0, 1, 3, 4, 5));
  EXPECT_THAT(Rows("origin like '_A_'"), ElementsAre(1));
  EXPECT_THAT(Rows("origin like 'Z_rich'"), ElementsAre(5));  // _ is one character, not byte
  EXPECT_THAT(Rows("origin like '%r%h'"), ElementsAre(5));
  EXPECT_THAT(Rows("origin like 'j%k'"), ElementsAre(4));
  EXPECT_THAT(Rows("origin not like '%F%'"), ElementsAre(1, 4, 5));
  EXPECT_THAT(Rows("not origin like '%F%'"), ElementsAre(1, 4, 5));
  EXPECT_THAT(Rows("origin like '___'"), ElementsAre(0, 1, 3, 4));
  EXPECT_THAT(Rows("origin like '%%_F%'"), ElementsAre(0, 3));
  EXPECT_THAT(Rows("origin like ''"), ElementsAre());
}

TEST(ExprEvalTest, Arithmetic) {
  EXPECT_THAT(Rows("distance + 1 = 101"), ElementsAre(0));
  EXPECT_THAT(Rows("distance - dep = 95"), ElementsAre(0));
  EXPECT_THAT(Rows("distance * 2 > 1000"), ElementsAre(1, 2));
  EXPECT_THAT(Rows("distance / 200 = 3.75"), ElementsAre(2));  // / is double division
  EXPECT_THAT(Rows("distance % 7 = 1"), ElementsAre(2));       // 750 = 7 * 107 + 1
  EXPECT_THAT(Rows("-distance > 0"), ElementsAre(5));
  EXPECT_THAT(Rows("-20 % 3 = -2"), ElementsAre(0, 1, 2, 3, 4, 5));  // sign of the dividend
  EXPECT_THAT(Rows("delay * 2 + 1 > 4"), ElementsAre(3, 5));
  EXPECT_THAT(Rows("delay % 2 = 1.5"), ElementsAre(0));
}

TEST(ExprEvalTest, DivisionByZeroIsNull) {
  EXPECT_EQ(Truth("distance / 0 > 0"), "nnnnnn");
  EXPECT_EQ(Truth("distance % 0 = 0"), "nnnnnn");
  EXPECT_EQ(Truth("delay / (distance - 100) > 0"), "nfnnff");
  EXPECT_EQ(Truth("distance % (dep - 5) = 0"), "nttnnt");
}

TEST(ExprEvalTest, IntegerOverflowIsAnError) {
  auto check = [](std::string_view text) {
    auto b = CompilePredicate(text, TestSchema());
    EXPECT_TRUE(b.ok()) << b.status();
    Selection sel = Selection::All(6);
    return (*b)->Filter(TestBatch(), &sel);
  };
  absl::Status st = check("distance * 9223372036854775807 > 0");
  EXPECT_EQ(st.message(), "filter: integer overflow in 'distance * 9223372036854775807'");
  EXPECT_THAT(check("distance + 9223372036854775100 > 0").message(), HasSubstr("overflow"));
  EXPECT_THAT(check("-distance - 9223372036854775800 < 0").message(), HasSubstr("overflow"));
  EXPECT_THAT(check("-(distance * 0 - 9223372036854775807 - 1) > 0").message(),
              HasSubstr("overflow"));
  // Null rows do not overflow; x % -1 does not trap.
  EXPECT_TRUE(check("(distance * 0 - 9223372036854775807 - 1) % -1 = 0").ok());
}

TEST(ExprEvalTest, EvaluateProducesTypedColumns) {
  auto eval = [](std::string_view text, Column* c) {
    auto e = ParseExpr(text);
    ASSERT_TRUE(e.ok());
    auto b = BoundExpr::Bind(*e, TestSchema());
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE((*b)->Evaluate(TestBatch(), c).ok());
  };
  Column c;
  eval("distance + dep", &c);
  EXPECT_EQ(c.type, Type::kInt64);
  EXPECT_THAT(c.valid, ElementsAre(1, 1, 1, 0, 0, 1));
  EXPECT_EQ(c.i64[0], 105);
  EXPECT_EQ(c.i64[5], -10);
  eval("distance / 8", &c);
  EXPECT_EQ(c.type, Type::kDouble);
  EXPECT_DOUBLE_EQ(c.f64[0], 12.5);
  eval("origin", &c);
  EXPECT_EQ(c.type, Type::kString);
  EXPECT_EQ(c.str(5), "Zürich");
  EXPECT_EQ(c.valid[2], 0);
  eval("dt", &c);
  EXPECT_EQ(c.type, Type::kDate);
  EXPECT_EQ(c.i32.size(), 6u);
}

TEST(ExprEvalTest, FilterNarrowsAnExistingSelection) {
  Batch b = TestBatch();
  auto rows = Rows("distance > 0", b, {1, 3, 4, 5});
  EXPECT_THAT(rows, ElementsAre(1));
  rows = Rows("origin like '%F%' or distance < 0", b, {0, 2, 5});
  EXPECT_THAT(rows, ElementsAre(0, 5));
  rows = Rows("dep > 6 and delay > 0", b, {2, 3, 5});
  EXPECT_THAT(rows, ElementsAre(3, 5));
}

TEST(ExprEvalTest, DecimalsTakePartAsDoubles) {
  Schema schema = {{"price", Type::kDecimal, true, 6, 2}, {"qty", Type::kInt64}};
  Column price = IntColumn({1050, 999, std::nullopt, -1}, Type::kInt64);
  price.type = Type::kDecimal;
  price.scale = 2;
  Batch batch = MakeBatch({price, IntColumn({2, 3, 4, std::nullopt})});
  auto rows = [&](std::string_view text) {
    auto b = CompilePredicate(text, schema);
    EXPECT_TRUE(b.ok()) << text << ": " << b.status();
    Selection sel = Selection::All(4);
    EXPECT_TRUE((*b)->Filter(batch, &sel).ok());
    std::vector<uint32_t> out;
    for (size_t i = 0; i < sel.size(); ++i) out.push_back(sel[i]);
    return out;
  };
  EXPECT_THAT(rows("price > 10"), ElementsAre(0));
  EXPECT_THAT(rows("price = 10.5"), ElementsAre(0));
  EXPECT_THAT(rows("price in (9.99, 10.5)"), ElementsAre(0, 1));
  EXPECT_THAT(rows("price < 0"), ElementsAre(3));
  EXPECT_THAT(rows("price * qty > 25"), ElementsAre(1));  // 21.0, 29.97
  EXPECT_THAT(rows("price is null"), ElementsAre(2));
  EXPECT_THAT(CompilePredicate("price = 'x'", schema).status().message(),
              HasSubstr("compares decimal with string"));
  // Decimal statistics are not used for pruning.
  auto b = CompilePredicate("price > 1000", schema);
  ASSERT_TRUE(b.ok());
  ColumnRange r;
  r.has_min_max = true;
  EXPECT_TRUE((*b)->MayMatch({r, std::nullopt}));
}

TEST(ExprEvalTest, FilterNeedsACondition) {
  auto e = ParseExpr("distance + 1");
  auto b = BoundExpr::Bind(*e, TestSchema());
  ASSERT_TRUE(b.ok());
  Selection sel = Selection::All(6);
  EXPECT_THAT((*b)->Filter(TestBatch(), &sel).message(), HasSubstr("not a condition"));
}

}  // namespace
}  // namespace de::engine
