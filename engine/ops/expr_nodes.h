// Internal to engine/ops/expr_*.cc: the bound (typed) expression tree and its vectorised
// evaluation. A Node evaluates a whole batch at a time (one virtual call per node per batch) into
// a dense Vec over the selected rows; boolean nodes can also narrow a Selection directly, with
// tight typed loops for a column compared with a literal. Nodes are immutable after binding and
// may be evaluated from many threads at once (all scratch lives in the caller's Vecs).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"
#include "engine/ops/expr.h"
#include "engine/ops/expr_ast.h"

namespace de::engine::expr_internal {

using Ranges = std::vector<std::optional<ColumnRange>>;

// How a logical type is held in a Vec: bool -> b; int32/int64/date/timestamp -> i (int64,
// days for dates, microseconds for timestamps); double -> d; string -> s (views into the batch or
// the expression's literals).
enum class Phys : uint8_t { kBool, kInt, kDouble, kString };
Phys PhysOf(Type t);

// Dense values for the selected rows (entry i = the i-th selected row). Null slots hold 0 / "".
struct Vec {
  size_t n = 0;
  std::vector<uint8_t> valid;
  std::vector<uint8_t> b;
  std::vector<int64_t> i;
  std::vector<double> d;
  std::vector<std::string_view> s;
  void Reset(size_t rows, Phys p);
};

// Calls f(i, row) for each selected row, i = its position in the selection.
template <typename F>
inline void ForEachRow(const Selection& sel, F&& f) {
  const size_t n = sel.size();
  if (sel.all()) {
    for (size_t i = 0; i < n; ++i) f(i, static_cast<uint32_t>(i));
  } else {
    // Indices() does not modify a selection that is already materialised.
    const uint32_t* idx = const_cast<Selection&>(sel).Indices().data();
    for (size_t i = 0; i < n; ++i) f(i, idx[i]);
  }
}

class Node {
 public:
  Node(Type type, const Expr& src)
      : type(type), type_name(TypeName(type)), src(&src), column(src.column) {}
  virtual ~Node() = default;

  Type type;                   // the logical result type
  bool null_literal = false;   // the literal `null`, typed by its context
  std::string type_name;       // for messages: "int" for an int literal, else TypeName(type)
  const Expr* src;             // the syntax node (owned by the BoundExpr's tree), for messages
  int column;                  // 1-based source column

  std::string text() const { return src->text(); }

  // Evaluates the selected rows of `batch` into `out`.
  virtual absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const = 0;
  // Narrows `sel` to the rows where this boolean node is true. Default: Eval, keep the trues.
  virtual absl::Status Narrow(const Batch& batch, Selection* sel) const;
  // False only when no row with column ranges `r` can make this boolean node true.
  virtual bool MayMatch(const Ranges& r) const { return true; }
};
using NodePtr = std::unique_ptr<Node>;

class LiteralNode : public Node {
 public:
  LiteralNode(Type t, const Expr& src) : Node(t, src) {}
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& r) const override { return !null_literal && b; }
};

class ColumnNode : public Node {
 public:
  ColumnNode(Type t, const Expr& src, int index) : Node(t, src), index(index) {}
  int index;
  bool decimal = false;  // a kDecimal column read as double (type is kDouble); min/max unused
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;  // bool columns
  bool MayMatch(const Ranges& r) const override;
};

class CastNode : public Node {  // int -> double, or date -> timestamp
 public:
  CastNode(Type t, NodePtr child, const Expr& src) : Node(t, src), child(std::move(child)) {}
  NodePtr child;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
};

class NegNode : public Node {
 public:
  NegNode(Type t, NodePtr child, const Expr& src, std::string what)
      : Node(t, src), child(std::move(child)), what(std::move(what)) {}
  NodePtr child;
  std::string what;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
};

class ArithNode : public Node {
 public:
  ArithNode(Type t, ExprOp op, NodePtr l, NodePtr r, const Expr& src, std::string what)
      : Node(t, src), op(op), l(std::move(l)), r(std::move(r)), what(std::move(what)) {}
  ExprOp op;
  NodePtr l, r;
  std::string what;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
};

// l op r, both of one physical kind. When l is a column (or an int column cast to double) and r
// a literal, Narrow runs one typed loop over the column.
class CompareNode : public Node {
 public:
  CompareNode(ExprOp op, NodePtr l, NodePtr r, const Expr& src)
      : Node(Type::kBool, src), op(op), l(std::move(l)), r(std::move(r)) {}
  ExprOp op;
  NodePtr l, r;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& r) const override;
};

class IsNullNode : public Node {
 public:
  IsNullNode(NodePtr child, bool negated, const Expr& src)
      : Node(Type::kBool, src), child(std::move(child)), negated(negated) {}
  NodePtr child;
  bool negated;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& r) const override;
};

// child [not] in (values): values of the child's physical kind, sorted and deduplicated.
class InNode : public Node {
 public:
  InNode(NodePtr child, bool negated, const Expr& src)
      : Node(Type::kBool, src), child(std::move(child)), negated(negated) {}
  NodePtr child;
  bool negated;
  bool has_null = false;   // the list holds null: a non-match is null, not false
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  void Finish();  // sorts and deduplicates the values
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& r) const override;

 private:
  // Short lists are scanned, longer ones binary-searched.
  template <typename T>
  bool Contains(const std::vector<T>& v, const T& x) const {
    if (v.size() <= 8) {
      for (const T& e : v) {
        if (e == x) return true;
      }
      return false;
    }
    return std::binary_search(v.begin(), v.end(), x);
  }
  std::vector<std::string_view> views_;
};

// SQL LIKE: % any run of characters, _ one character (UTF-8); no escape character.
class LikeMatcher {
 public:
  explicit LikeMatcher(std::string pattern);
  bool Match(std::string_view s) const;
  // The literal prefix every match starts with ("" when the pattern starts with a wildcard).
  const std::string& prefix() const { return prefix_; }

 private:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kAny, kGeneral };
  bool General(std::string_view s) const;
  Kind kind_;
  std::string pattern_;
  std::string needle_;   // the literal part for the fast kinds
  std::string prefix_;
};

class LikeNode : public Node {
 public:
  LikeNode(NodePtr child, bool negated, std::string pattern, const Expr& src)
      : Node(Type::kBool, src), child(std::move(child)), negated(negated),
        matcher(std::move(pattern)) {}
  NodePtr child;
  bool negated;
  LikeMatcher matcher;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& r) const override;
};

class AndOrNode : public Node {
 public:
  AndOrNode(bool is_and, NodePtr l, NodePtr r, const Expr& src)
      : Node(Type::kBool, src), is_and(is_and), l(std::move(l)), r(std::move(r)) {}
  bool is_and;
  NodePtr l, r;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
  absl::Status Narrow(const Batch& batch, Selection* sel) const override;
  bool MayMatch(const Ranges& rg) const override {
    return is_and ? (l->MayMatch(rg) && r->MayMatch(rg)) : (l->MayMatch(rg) || r->MayMatch(rg));
  }
};

class NotNode : public Node {  // only where `not` cannot be pushed into its operand
 public:
  NotNode(NodePtr child, const Expr& src) : Node(Type::kBool, src), child(std::move(child)) {}
  NodePtr child;
  absl::Status Eval(const Batch& batch, const Selection& sel, Vec* out) const override;
};

// Converts a Vec of `type` into a Column (for BoundExpr::Evaluate).
void VecToColumn(const Vec& v, Type type, Column* out);

// Binds `e` against `schema` (expr_bind.cc).
absl::StatusOr<NodePtr> BindNode(const Expr& e, const Schema& schema, std::string_view what);

}  // namespace de::engine::expr_internal
