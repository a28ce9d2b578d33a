// The expression language: parsing, positions of errors, schema-free checks, binding errors.
#include "engine/ops/expr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/ops/expr_ast.h"

namespace de::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct ParseError {
  std::string message;
  int column;
};

ParseError ErrorOf(std::string_view text) {
  auto e = ParseExpr(text);
  if (e.ok()) return {"(parsed)", 0};
  return {std::string(e.status().message()), ExprErrorColumn(e.status())};
}

TEST(ExprParseTest, ParsesPrecedence) {
  auto e = ParseExpr("a = 1 or b > 2 and not c");
  ASSERT_TRUE(e.ok()) << e.status();
  const Expr& root = **e;
  EXPECT_EQ(root.op, ExprOp::kOr);
  EXPECT_EQ(root.args[0]->op, ExprOp::kEq);
  EXPECT_EQ(root.args[1]->op, ExprOp::kAnd);
  EXPECT_EQ(root.args[1]->args[1]->op, ExprOp::kNot);
  EXPECT_EQ(root.args[1]->text(), "b > 2 and not c");
  EXPECT_EQ(root.args[1]->column, 10);

  auto m = ParseExpr("1 + 2 * 3 - -4 % 5");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->op, ExprOp::kSub);
  EXPECT_EQ((*m)->args[0]->op, ExprOp::kAdd);
  EXPECT_EQ((*m)->args[0]->args[1]->op, ExprOp::kMul);
  EXPECT_EQ((*m)->args[1]->op, ExprOp::kMod);
  EXPECT_EQ((*m)->args[1]->args[0]->lit.i, -4);
}

TEST(ExprParseTest, LiteralsAndKeywords) {
  auto e = ParseExpr(
      "\"my col\" IS NOT NULL AnD x NOT IN ('a', 'it''s', null) and d between date '2024-01-31' "
      "and timestamp '2024-02-01 10:00:00' and s not like '%x_' and f = 1.5e3 and t = TRUE");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(ReferencedColumns(**e), ElementsAre("my col", "x", "d", "s", "f", "t"));
  auto lit = ParseExpr("date '2024-03-01'");
  ASSERT_TRUE(lit.ok());
  EXPECT_EQ((*lit)->lit.kind, ExprLiteral::Kind::kDate);
  EXPECT_EQ((*lit)->lit.i, 19783);
  auto ts = ParseExpr("timestamp '1970-01-02 00:00:01.5'");
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ((*ts)->lit.i, 86401500000);
  auto big = ParseExpr("-9223372036854775808");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ((*big)->lit.i, INT64_MIN);
}

TEST(ExprParseTest, DateIsAColumnWhenNotFollowedByAString) {
  auto e = ParseExpr("date >= '2024-01-01' and timestamp is null");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(ReferencedColumns(**e), ElementsAre("date", "timestamp"));
}

TEST(ExprParseTest, ErrorsSayWhere) {
  ParseError e = ErrorOf("distance => 5");
  EXPECT_EQ(e.message, "filter: column 10: unknown operator '=>'");
  EXPECT_EQ(e.column, 10);

  e = ErrorOf("a > 1 and");
  EXPECT_EQ(e.column, 10);
  EXPECT_THAT(e.message, HasSubstr("unexpected end of expression"));

  e = ErrorOf("(a > 1");
  EXPECT_EQ(e.column, 7);
  EXPECT_THAT(e.message, HasSubstr("expected ')'"));

  e = ErrorOf("origin = 'JFK");
  EXPECT_EQ(e.column, 10);
  EXPECT_THAT(e.message, HasSubstr("unterminated string"));

  e = ErrorOf("a > 1 b");
  EXPECT_EQ(e.column, 7);
  EXPECT_THAT(e.message, HasSubstr("unexpected 'b' after the expression"));

  e = ErrorOf("x in (1, y)");
  EXPECT_EQ(e.column, 10);
  EXPECT_THAT(e.message, HasSubstr("must be literals"));

  e = ErrorOf("d > date '2024-02-30'");
  EXPECT_EQ(e.column, 10);
  EXPECT_THAT(e.message, HasSubstr("invalid date '2024-02-30'"));

  e = ErrorOf("a # 1");
  EXPECT_EQ(e.column, 3);
  EXPECT_THAT(e.message, HasSubstr("unexpected character '#'"));

  e = ErrorOf("s like 5");
  EXPECT_EQ(e.column, 8);
  e = ErrorOf("a is nul");
  EXPECT_EQ(e.column, 6);
  e = ErrorOf("x between 1 or 2");
  EXPECT_EQ(e.column, 13);
  e = ErrorOf("and = 1");
  EXPECT_EQ(e.column, 1);
  EXPECT_THAT(e.message, HasSubstr("quote a column"));
  e = ErrorOf("lower(x) = 'a'");
  EXPECT_THAT(e.message, HasSubstr("unknown function 'lower'"));
  e = ErrorOf("x = 99999999999999999999");
  EXPECT_EQ(e.column, 5);
  EXPECT_THAT(e.message, HasSubstr("out of the int64 range"));
  e = ErrorOf("");
  EXPECT_EQ(e.column, 1);
  // Columns count characters, not bytes.
  e = ErrorOf("ville = 'Zürich' @");
  EXPECT_EQ(e.column, 18);
}

TEST(ExprParseTest, WhatPrefixesErrors) {
  auto e = ParseExpr("n >", "having");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "having: column 4: unexpected end of expression");
}

TEST(ExprParseTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "1";
  EXPECT_THAT(ErrorOf(deep).message, HasSubstr("nested too deeply"));
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_THAT(ErrorOf(nots + "x").message, HasSubstr("nested too deeply"));
  // Long operator chains build deep trees too: bounded, so later passes cannot overflow the stack.
  std::string chain = "a";
  for (int i = 0; i < 5000; ++i) chain += " + a";
  EXPECT_THAT(ErrorOf(chain + " > 1").message, HasSubstr("too long or nested too deeply"));
  std::string ors = "x = 0";
  for (int i = 1; i < 500; ++i) ors += " or x = " + std::to_string(i);
  auto e = ParseExpr(ors);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->text().size(), ors.size());
}

TEST(ExprErrorColumnTest, FallsBackToTheMessage) {
  EXPECT_EQ(ExprErrorColumn(absl::InvalidArgumentError("filter: column 7: bad")), 7);
  EXPECT_EQ(ExprErrorColumn(absl::InvalidArgumentError("something else")), 0);
  EXPECT_EQ(ExprErrorColumn(absl::OkStatus()), 0);
}

absl::Status CheckText(std::string_view text) {
  auto e = ParseExpr(text);
  if (!e.ok()) return e.status();
  return CheckExprWithoutSchema(**e);
}

TEST(ExprCheckTest, CatchesLiteralTypeErrorsWithoutASchema) {
  EXPECT_TRUE(CheckText("origin > 5 and delay / 2 > 1.5").ok());
  EXPECT_TRUE(CheckText("d >= '2024-01-01' and d < date '2024-02-01'").ok());
  EXPECT_TRUE(CheckText("null").ok());

  absl::Status st = CheckText("x > 1 and 'a' + 1 > 2");
  EXPECT_EQ(st.message(), "filter: ''a' + 1' is arithmetic on string (''a'')");
  EXPECT_EQ(ExprErrorColumn(st), 11);
  st = CheckText("5 = 'five'");
  EXPECT_EQ(st.message(), "filter: '5 = 'five'' compares int with string");
  st = CheckText("1 + 2");
  EXPECT_EQ(st.message(), "filter: '1 + 2' is int, not a condition");
  st = CheckText("x > 1 and 5");
  EXPECT_THAT(st.message(), HasSubstr("and needs conditions, '5' is int"));
  EXPECT_EQ(ExprErrorColumn(st), 11);
  st = CheckText("3 like 'a%'");
  EXPECT_THAT(st.message(), HasSubstr("like needs a string"));
  st = CheckText("x in (1, 'a')");
  EXPECT_THAT(st.message(), HasSubstr("compares int with string"));
  st = CheckText("date '2024-01-01' < '2024-13-01'");
  EXPECT_THAT(st.message(), HasSubstr("'2024-13-01' is not a date"));
  EXPECT_EQ(ExprErrorColumn(st), 21);
  st = CheckText("not 'x'");
  EXPECT_THAT(st.message(), HasSubstr("not needs conditions"));
  st = CheckText("-'x' < 1");
  EXPECT_THAT(st.message(), HasSubstr("arithmetic on string"));
}

Schema FlightsSchema() {
  return {{"origin", Type::kString},    {"distance", Type::kInt64}, {"delay", Type::kDouble},
          {"dt", Type::kDate},          {"ts", Type::kTimestamp},   {"cancelled", Type::kBool},
          {"dep", Type::kInt32}};
}

absl::Status BindText(std::string_view text) {
  auto b = CompilePredicate(text, FlightsSchema());
  return b.status();
}

TEST(ExprBindTest, UnknownColumnsSuggest) {
  absl::Status st = BindText("delya > 5");
  EXPECT_EQ(st.message(), "filter: column 1: no column 'delya' (did you mean 'delay'?)");
  EXPECT_EQ(ExprErrorColumn(st), 1);
  st = BindText("origin = 'JFK' and zzzzzz > 1");
  EXPECT_THAT(st.message(), HasSubstr("column 20: no column 'zzzzzz' (columns: origin, distance"));
  EXPECT_TRUE(BindText("ORIGIN = 'JFK'").ok());  // a unique case-insensitive match
}

TEST(ExprBindTest, TypeErrorsQuoteTheExpression) {
  absl::Status st = BindText("origin > 5");
  EXPECT_EQ(st.message(), "filter: 'origin > 5' compares string with int");
  EXPECT_EQ(ExprErrorColumn(st), 1);
  EXPECT_THAT(BindText("distance = 'far'").message(), HasSubstr("compares int64 with string"));
  EXPECT_THAT(BindText("cancelled = 1").message(), HasSubstr("compares bool with int"));
  EXPECT_THAT(BindText("dt = 5").message(), HasSubstr("compares date with int"));
  EXPECT_THAT(BindText("dt > '2024-13-01'").message(), HasSubstr("'2024-13-01' is not a date"));
  EXPECT_THAT(BindText("origin + 1 > 2").message(), HasSubstr("is arithmetic on string ('origin')"));
  EXPECT_THAT(BindText("distance like 'a%'").message(), HasSubstr("like needs a string"));
  EXPECT_THAT(BindText("distance").message(), HasSubstr("'distance' is int64, not a condition"));
  EXPECT_THAT(BindText("not distance").message(), HasSubstr("is int64, not a condition"));
  EXPECT_THAT(BindText("delay + 1").message(), HasSubstr("is double, not a condition"));
  EXPECT_THAT(BindText("origin in ('JFK', 5)").message(), HasSubstr("compares string with int"));
  EXPECT_THAT(BindText("dt + 1 > dt").message(), HasSubstr("arithmetic on date"));
  EXPECT_THAT(BindText("cancelled and distance").message(), HasSubstr("'distance' is int64"));
}

TEST(ExprBindTest, AcceptsWhatTheLanguagePromises) {
  for (const char* ok :
       {"distance > 500 and origin in ('JFK', 'LAX')", "dep >= 1.5", "delay > distance",
        "dt >= '2024-01-01' and dt < date '2024-02-01'", "ts >= '2024-01-01 10:00:00'",
        "ts < date '2024-01-02'", "dt = timestamp '2024-01-01 00:00:00'", "not cancelled",
        "cancelled", "origin like 'J%' or origin is null", "distance between 1 and delay",
        "distance % 7 = 3 and distance / 2 > 1", "-distance < 0", "null", "dep in (1, 2.5)",
        "dt in ('2024-01-01', date '2024-01-02')", "null = 1", "distance + null > 1"}) {
    EXPECT_TRUE(BindText(ok).ok()) << ok << ": " << BindText(ok);
  }
}

TEST(ExprBindTest, ResultTypes) {
  auto bind = [](std::string_view text) {
    auto e = ParseExpr(text);
    EXPECT_TRUE(e.ok());
    auto b = BoundExpr::Bind(*e, FlightsSchema());
    EXPECT_TRUE(b.ok()) << b.status();
    return (*b)->result_type();
  };
  EXPECT_EQ(bind("distance + dep"), Type::kInt64);
  EXPECT_EQ(bind("dep"), Type::kInt32);
  EXPECT_EQ(bind("distance / 2"), Type::kDouble);
  EXPECT_EQ(bind("distance * 1.5"), Type::kDouble);
  EXPECT_EQ(bind("origin"), Type::kString);
  EXPECT_EQ(bind("dt"), Type::kDate);
  EXPECT_EQ(bind("distance > 1"), Type::kBool);
}

}  // namespace
}  // namespace de::engine
