// The syntax tree of the expression language (see expr.h for the grammar and semantics).
// Built by ParseExpr; immutable afterwards and safe to share between threads.
// This header and expr_parse.cc / expr_check.cc form the `de_expr` library (absl only), which
// the DAG loader links to check `filter:` at submit time without the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace de::engine {

enum class ExprOp : uint8_t {
  kLiteral,
  kColumn,
  kNot,      // args[0]
  kNeg,      // args[0]
  kAnd,      // args[0], args[1]
  kOr,
  kEq, kNe, kLt, kLe, kGt, kGe,      // comparisons, args[0] op args[1]
  kAdd, kSub, kMul, kDiv, kMod,      // arithmetic
  kIsNull,   // args[0] is [not] null
  kIn,       // args[0] [not] in (args[1..]); args[1..] are literals
  kLike,     // args[0] [not] like literal.s
  kBetween,  // args[0] [not] between args[1] and args[2]
};

// A literal value. Dates are days since 1970-01-01; timestamps microseconds since the epoch (UTC).
struct ExprLiteral {
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kDate, kTimestamp };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;     // kInt, kDate (days), kTimestamp (micros)
  double d = 0;
  std::string s;     // kString
};

const char* LiteralKindName(ExprLiteral::Kind k);  // "null" "bool" "int" "double" "string" ...

class Expr {
 public:
  ExprOp op = ExprOp::kLiteral;
  bool negated = false;   // `is not null`, `not in`, `not like`, `not between`
  ExprLiteral lit;        // kLiteral; the pattern of kLike (a string)
  std::string name;       // kColumn
  std::vector<std::shared_ptr<const Expr>> args;
  int column = 1;         // 1-based column (in characters) where this node starts in the source
  size_t offset = 0;      // the same position as a byte offset
  size_t length = 0;      // bytes of this node's source text
  int depth = 1;          // height of the tree below (and including) this node
  std::shared_ptr<const std::string> source;  // the whole expression (shared by all nodes)

  // The node's source text, for messages ("origin > 5").
  std::string text() const { return source ? source->substr(offset, length) : std::string(); }
};

// True for =, !=, <, <=, >, >=.
inline bool IsComparison(ExprOp op) { return op >= ExprOp::kEq && op <= ExprOp::kGe; }
inline bool IsArithmetic(ExprOp op) { return op >= ExprOp::kAdd && op <= ExprOp::kMod; }
const char* ExprOpSymbol(ExprOp op);  // "=", "+", "and", ...

// An InvalidArgument error "<what>: column <col>: <message>" carrying `col` for ExprErrorColumn.
absl::Status ExprErrorAt(std::string_view what, int col, std::string_view message);
// An InvalidArgument error "<what>: <message>" carrying `col` (no column in the text).
absl::Status ExprErrorQuiet(std::string_view what, int col, std::string_view message);

// 'YYYY-MM-DD' -> days since 1970-01-01; false when malformed or not a real day.
bool ParseExprDate(std::string_view s, int64_t* days);
// 'YYYY-MM-DD[ |T]HH:MM:SS[.ffffff]' or 'YYYY-MM-DD' -> microseconds since the epoch (UTC).
bool ParseExprTimestamp(std::string_view s, int64_t* micros);

}  // namespace de::engine
