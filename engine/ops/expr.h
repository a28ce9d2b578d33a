// The expression language of `filter:` (clean, aggregate) and `having:` (aggregate).
//
//   expr     := or
//   or       := and ("or" and)*
//   and      := not ("and" not)*
//   not      := "not" not | cmp
//   cmp      := add (("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") add
//               | "is" ["not"] "null" | ["not"] "in" "(" literal ("," literal)* ")"
//               | ["not"] "like" string | ["not"] "between" add "and" add)?
//   add      := mul (("+" | "-") mul)*
//   mul      := unary (("*" | "/" | "%") unary)*
//   unary    := "-" unary | primary
//   primary  := number | 'string' | true | false | null | date 'YYYY-MM-DD'
//               | timestamp 'YYYY-MM-DD HH:MM:SS' | column | "column name" | "(" expr ")"
//
// Keywords are case-insensitive. Semantics are SQL's: comparisons and arithmetic with a null
// operand are null; `and`/`or` are three-valued; a filter keeps a row only when the result is true
// (false and null drop it). Integer arithmetic is int64 (overflow is an error); `/` is double
// division; `x / 0` and `x % 0` are null (as in DuckDB); int compares with double numerically;
// date/timestamp compare with date/timestamp literals and with 'YYYY-MM-DD' strings.
// engine/ops/README.md describes the language in full.
//
// Parse and type errors say where: "filter: column 12: unknown operator '=>'", "filter: column
// 1: no column 'delya' (did you mean delay?)", "filter: 'origin > 5' compares string with int".
//
// Thread safety: a parsed Expr and a BoundExpr are immutable; Evaluate/Filter may run on many
// threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"

namespace de::engine {

class Expr;  // a syntax tree node (engine/ops/expr_ast.h)

// Parses `text`. `what` prefixes errors ("filter"). The error's message includes the 1-based
// column of the problem in `text`, and ExprErrorColumn() recovers it (for file:line:column).
absl::StatusOr<std::shared_ptr<const Expr>> ParseExpr(std::string_view text,
                                                      std::string_view what = "filter");
// The 1-based column carried by a ParseExpr/Bind error, or 0.
int ExprErrorColumn(const absl::Status& error);

// Columns the expression names, in order of first use.
std::vector<std::string> ReferencedColumns(const Expr& e);

// Type-checks what can be checked without a schema (submit time): literal operand types, `like`
// on a non-string literal, arithmetic on strings, a non-boolean top level made only of literals.
absl::Status CheckExprWithoutSchema(const Expr& e, std::string_view what = "filter");

// Min/max statistics of one column over a row group (for skipping row groups).
struct ColumnRange {
  bool has_min_max = false;
  bool may_have_nulls = true;
  int64_t min_int = 0, max_int = 0;       // bool, int32, int64, date, timestamp
  double min_double = 0, max_double = 0;  // double
  std::string min_string, max_string;     // string
};

class BoundExpr {
 public:
  // Resolves column names against `schema` and type-checks. Unknown columns get a "did you mean".
  static absl::StatusOr<std::unique_ptr<BoundExpr>> Bind(std::shared_ptr<const Expr> e,
                                                         const Schema& schema,
                                                         std::string_view what = "filter");
  virtual ~BoundExpr() = default;

  virtual Type result_type() const = 0;

  // Narrows `sel` to the rows of `batch` where the (boolean) expression is true.
  virtual absl::Status Filter(const Batch& batch, Selection* sel) const = 0;

  // Evaluates for every row of `batch` into `out` (type result_type(), nulls in `valid`).
  virtual absl::Status Evaluate(const Batch& batch, Column* out) const = 0;

  // False only when no row of a row group whose columns have these ranges can match (a boolean
  // expression); `ranges[i]` is for schema column i, nullopt when unknown. Conservative.
  virtual bool MayMatch(const std::vector<std::optional<ColumnRange>>& ranges) const = 0;
};

// BoundExpr::Bind, then requires a boolean result ("filter: 'x + 1' is int64, not a condition").
absl::StatusOr<std::unique_ptr<BoundExpr>> BindPredicate(std::shared_ptr<const Expr> e,
                                                         const Schema& schema,
                                                         std::string_view what = "filter");

// ParseExpr + CheckExprWithoutSchema + BindPredicate in one call (what a task does at start).
absl::StatusOr<std::unique_ptr<BoundExpr>> CompilePredicate(std::string_view text,
                                                            const Schema& schema,
                                                            std::string_view what = "filter");

}  // namespace de::engine
