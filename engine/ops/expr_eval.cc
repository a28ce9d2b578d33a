// Vectorised evaluation of bound expressions into dense Vecs (one typed loop per node per batch),
// and the BoundExpr entry points.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/ops/expr_nodes.h"

namespace de::engine {
namespace expr_internal {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

template <typename T, typename Cmp>
void CmpLoop(const T* a, const T* b, const uint8_t* av, const uint8_t* bv, uint8_t* ov,
             uint8_t* ob, size_t n, Cmp cmp) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t v = av[i] & bv[i];
    ov[i] = v;
    ob[i] = v & static_cast<uint8_t>(cmp(a[i], b[i]));
  }
}

template <typename T>
void CmpDispatch(ExprOp op, const T* a, const T* b, const uint8_t* av, const uint8_t* bv,
                 uint8_t* ov, uint8_t* ob, size_t n) {
  switch (op) {
    case ExprOp::kEq: CmpLoop(a, b, av, bv, ov, ob, n, std::equal_to<T>()); break;
    case ExprOp::kNe: CmpLoop(a, b, av, bv, ov, ob, n, std::not_equal_to<T>()); break;
    case ExprOp::kLt: CmpLoop(a, b, av, bv, ov, ob, n, std::less<T>()); break;
    case ExprOp::kLe: CmpLoop(a, b, av, bv, ov, ob, n, std::less_equal<T>()); break;
    case ExprOp::kGt: CmpLoop(a, b, av, bv, ov, ob, n, std::greater<T>()); break;
    case ExprOp::kGe: CmpLoop(a, b, av, bv, ov, ob, n, std::greater_equal<T>()); break;
    default: break;
  }
}

absl::Status Overflow(const std::string& what, const std::string& text) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": integer overflow in '", text, "'"));
}

// Integer + - * % over valid rows; returns false on overflow.
bool IntArith(ExprOp op, const int64_t* a, const int64_t* b, uint8_t* v, int64_t* o, size_t n) {
  bool overflow = false;
  switch (op) {
    case ExprOp::kAdd:
      for (size_t i = 0; i < n; ++i) {
        int64_t r;
        overflow |= __builtin_add_overflow(a[i], b[i], &r) & (v[i] != 0);
        o[i] = v[i] ? r : 0;
      }
      break;
    case ExprOp::kSub:
      for (size_t i = 0; i < n; ++i) {
        int64_t r;
        overflow |= __builtin_sub_overflow(a[i], b[i], &r) & (v[i] != 0);
        o[i] = v[i] ? r : 0;
      }
      break;
    case ExprOp::kMul:
      for (size_t i = 0; i < n; ++i) {
        int64_t r;
        overflow |= __builtin_mul_overflow(a[i], b[i], &r) & (v[i] != 0);
        o[i] = v[i] ? r : 0;
      }
      break;
    case ExprOp::kMod:  // x % 0 is null; x % -1 is 0 (no INT64_MIN trap)
      for (size_t i = 0; i < n; ++i) {
        int64_t d = b[i];
        v[i] &= static_cast<uint8_t>(d != 0);
        o[i] = (v[i] && d != -1) ? a[i] % d : 0;
      }
      break;
    default: break;
  }
  return !overflow;
}

void DoubleArith(ExprOp op, const double* a, const double* b, uint8_t* v, double* o, size_t n) {
  switch (op) {
    case ExprOp::kAdd:
      for (size_t i = 0; i < n; ++i) o[i] = v[i] ? a[i] + b[i] : 0;
      break;
    case ExprOp::kSub:
      for (size_t i = 0; i < n; ++i) o[i] = v[i] ? a[i] - b[i] : 0;
      break;
    case ExprOp::kMul:
      for (size_t i = 0; i < n; ++i) o[i] = v[i] ? a[i] * b[i] : 0;
      break;
    case ExprOp::kDiv:  // x / 0 is null (as in DuckDB)
      for (size_t i = 0; i < n; ++i) {
        v[i] &= static_cast<uint8_t>(b[i] != 0);
        o[i] = v[i] ? a[i] / b[i] : 0;
      }
      break;
    case ExprOp::kMod:
      for (size_t i = 0; i < n; ++i) {
        v[i] &= static_cast<uint8_t>(b[i] != 0);
        o[i] = v[i] ? std::fmod(a[i], b[i]) : 0;
      }
      break;
    default: break;
  }
}

}  // namespace

void Vec::Reset(size_t rows, Phys p) {
  n = rows;
  valid.resize(rows);
  b.clear();
  i.clear();
  d.clear();
  s.clear();
  switch (p) {
    case Phys::kBool: b.resize(rows); break;
    case Phys::kInt: i.resize(rows); break;
    case Phys::kDouble: d.resize(rows); break;
    case Phys::kString: s.resize(rows); break;
  }
}

absl::Status Node::Narrow(const Batch& batch, Selection* sel) const {
  Vec v;
  DE_RETURN_IF_ERROR(Eval(batch, *sel, &v));
  std::vector<uint32_t> keep;
  keep.reserve(sel->size());
  const uint8_t* b = v.b.data();
  ForEachRow(*sel, [&](size_t i, uint32_t r) {
    if (b[i]) keep.push_back(r);
  });
  *sel = Selection::Of(std::move(keep));
  return absl::OkStatus();
}

absl::Status LiteralNode::Eval(const Batch&, const Selection& sel, Vec* out) const {
  size_t n = sel.size();
  out->Reset(n, PhysOf(type));
  uint8_t v = null_literal ? 0 : 1;
  std::fill(out->valid.begin(), out->valid.end(), v);
  if (!v) return absl::OkStatus();
  switch (PhysOf(type)) {
    case Phys::kBool: std::fill(out->b.begin(), out->b.end(), b ? 1 : 0); break;
    case Phys::kInt: std::fill(out->i.begin(), out->i.end(), i); break;
    case Phys::kDouble: std::fill(out->d.begin(), out->d.end(), d); break;
    case Phys::kString: std::fill(out->s.begin(), out->s.end(), std::string_view(s)); break;
  }
  return absl::OkStatus();
}

absl::Status LiteralNode::Narrow(const Batch&, Selection* sel) const {
  if (null_literal || !b) *sel = Selection::Of({});
  return absl::OkStatus();
}

absl::Status ColumnNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  const Column& c = batch.columns[index];
  out->Reset(sel.size(), PhysOf(type));
  uint8_t* ov = out->valid.data();
  const uint8_t* cv = c.valid.data();
  switch (c.type) {
    case Type::kBool: {
      const uint8_t* d = c.u8.data();
      uint8_t* o = out->b.data();
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? (d[r] != 0) : 0;
      });
      break;
    }
    case Type::kInt32:
    case Type::kDate: {
      const int32_t* d = c.i32.data();
      int64_t* o = out->i.data();
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? d[r] : 0;
      });
      break;
    }
    case Type::kInt64:
    case Type::kTimestamp: {
      const int64_t* d = c.i64.data();
      int64_t* o = out->i.data();
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? d[r] : 0;
      });
      break;
    }
    case Type::kDouble: {
      const double* d = c.f64.data();
      double* o = out->d.data();
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? d[r] : 0;
      });
      break;
    }
    case Type::kDecimal: {
      const int64_t* d = c.i64.data();
      double* o = out->d.data();
      double div = 1;
      for (int k = 0; k < c.scale; ++k) div *= 10;
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? static_cast<double>(d[r]) / div : 0;
      });
      break;
    }
    case Type::kString: {
      std::string_view* o = out->s.data();
      if (c.is_dictionary()) {  // views into the dictionary
        const Column& d = *c.dictionary;
        const uint32_t* codes = c.codes.data();
        ForEachRow(sel, [&](size_t i, uint32_t r) {
          uint8_t v = cv[r];
          ov[i] = v;
          o[i] = v ? d.str(codes[r]) : std::string_view();
        });
        break;
      }
      ForEachRow(sel, [&](size_t i, uint32_t r) {
        uint8_t v = cv[r];
        ov[i] = v;
        o[i] = v ? c.str(r) : std::string_view();
      });
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status CastNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec in;
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, &in));
  out->Reset(in.n, PhysOf(type));
  out->valid = in.valid;
  if (type == Type::kDouble) {
    for (size_t k = 0; k < in.n; ++k) out->d[k] = static_cast<double>(in.i[k]);
  } else {  // date -> timestamp, saturating far outside any real date
    for (size_t k = 0; k < in.n; ++k) {
      int64_t r;
      if (__builtin_mul_overflow(in.i[k], kMicrosPerDay, &r)) {
        r = in.i[k] < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
      }
      out->i[k] = r;
    }
  }
  return absl::OkStatus();
}

absl::Status NegNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, out));
  if (type == Type::kDouble) {
    for (size_t k = 0; k < out->n; ++k) out->d[k] = -out->d[k];
    return absl::OkStatus();
  }
  bool overflow = false;
  for (size_t k = 0; k < out->n; ++k) {
    overflow |= out->i[k] == std::numeric_limits<int64_t>::min();
    out->i[k] = 0 - static_cast<uint64_t>(out->i[k]);
  }
  return overflow ? Overflow(what, text()) : absl::OkStatus();
}

absl::Status ArithNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec a, b;
  DE_RETURN_IF_ERROR(l->Eval(batch, sel, &a));
  DE_RETURN_IF_ERROR(r->Eval(batch, sel, &b));
  size_t n = a.n;
  out->Reset(n, PhysOf(type));
  for (size_t k = 0; k < n; ++k) out->valid[k] = a.valid[k] & b.valid[k];
  if (type == Type::kDouble) {
    DoubleArith(op, a.d.data(), b.d.data(), out->valid.data(), out->d.data(), n);
    return absl::OkStatus();
  }
  if (!IntArith(op, a.i.data(), b.i.data(), out->valid.data(), out->i.data(), n)) {
    return Overflow(what, text());
  }
  return absl::OkStatus();
}

absl::Status CompareNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec a, b;
  DE_RETURN_IF_ERROR(l->Eval(batch, sel, &a));
  DE_RETURN_IF_ERROR(r->Eval(batch, sel, &b));
  size_t n = a.n;
  out->Reset(n, Phys::kBool);
  uint8_t* ov = out->valid.data();
  uint8_t* ob = out->b.data();
  switch (PhysOf(l->type)) {
    case Phys::kBool:
      CmpDispatch(op, a.b.data(), b.b.data(), a.valid.data(), b.valid.data(), ov, ob, n);
      break;
    case Phys::kInt:
      CmpDispatch(op, a.i.data(), b.i.data(), a.valid.data(), b.valid.data(), ov, ob, n);
      break;
    case Phys::kDouble:
      CmpDispatch(op, a.d.data(), b.d.data(), a.valid.data(), b.valid.data(), ov, ob, n);
      break;
    case Phys::kString:
      CmpDispatch(op, a.s.data(), b.s.data(), a.valid.data(), b.valid.data(), ov, ob, n);
      break;
  }
  return absl::OkStatus();
}

absl::Status IsNullNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec in;
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, &in));
  out->Reset(in.n, Phys::kBool);
  std::fill(out->valid.begin(), out->valid.end(), 1);
  uint8_t want_valid = negated ? 1 : 0;
  for (size_t k = 0; k < in.n; ++k) out->b[k] = in.valid[k] == want_valid;
  return absl::OkStatus();
}

void InNode::Finish() {
  std::sort(ints.begin(), ints.end());
  ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
  std::sort(doubles.begin(), doubles.end());
  doubles.erase(std::unique(doubles.begin(), doubles.end()), doubles.end());
  std::sort(strings.begin(), strings.end());
  strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
  views_.assign(strings.begin(), strings.end());
}

absl::Status InNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec in;
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, &in));
  out->Reset(in.n, Phys::kBool);
  Phys p = PhysOf(child->type);
  for (size_t k = 0; k < in.n; ++k) {
    if (!in.valid[k]) {
      out->valid[k] = 0;
      out->b[k] = 0;
      continue;
    }
    bool found = p == Phys::kString   ? Contains(views_, in.s[k])
                 : p == Phys::kDouble ? Contains(doubles, in.d[k])
                 : p == Phys::kBool   ? Contains(ints, static_cast<int64_t>(in.b[k]))
                                      : Contains(ints, in.i[k]);
    bool is_null = !found && has_null;
    out->valid[k] = !is_null;
    out->b[k] = !is_null && (found != negated);
  }
  return absl::OkStatus();
}

absl::Status LikeNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec in;
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, &in));
  out->Reset(in.n, Phys::kBool);
  out->valid = in.valid;
  for (size_t k = 0; k < in.n; ++k) {
    out->b[k] = in.valid[k] && (matcher.Match(in.s[k]) != negated);
  }
  return absl::OkStatus();
}

absl::Status AndOrNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  Vec a, b;
  DE_RETURN_IF_ERROR(l->Eval(batch, sel, &a));
  DE_RETURN_IF_ERROR(r->Eval(batch, sel, &b));
  size_t n = a.n;
  out->Reset(n, Phys::kBool);
  // Null slots hold 0, so a.b is "definitely true" and a.valid & !a.b is "definitely false".
  if (is_and) {
    for (size_t k = 0; k < n; ++k) {
      uint8_t a_false = a.valid[k] & !a.b[k], b_false = b.valid[k] & !b.b[k];
      out->valid[k] = (a.valid[k] & b.valid[k]) | a_false | b_false;
      out->b[k] = a.b[k] & b.b[k];
    }
  } else {
    for (size_t k = 0; k < n; ++k) {
      out->valid[k] = (a.valid[k] & b.valid[k]) | a.b[k] | b.b[k];
      out->b[k] = a.b[k] | b.b[k];
    }
  }
  return absl::OkStatus();
}

absl::Status NotNode::Eval(const Batch& batch, const Selection& sel, Vec* out) const {
  DE_RETURN_IF_ERROR(child->Eval(batch, sel, out));
  for (size_t k = 0; k < out->n; ++k) out->b[k] = out->valid[k] & !out->b[k];
  return absl::OkStatus();
}

void VecToColumn(const Vec& v, Type type, Column* out) {
  out->Clear();
  out->type = type;
  out->valid = v.valid;
  switch (type) {
    case Type::kBool: out->u8 = v.b; break;
    case Type::kInt32:
    case Type::kDate: out->i32.assign(v.i.begin(), v.i.end()); break;
    case Type::kInt64:
    case Type::kTimestamp: out->i64 = v.i; break;
    case Type::kDouble:
    case Type::kDecimal: out->f64 = v.d; break;  // (expressions never produce kDecimal)
    case Type::kString: {
      size_t total = 0;
      for (auto s : v.s) total += s.size();
      out->bytes.reserve(total);
      out->offsets.reserve(v.n + 1);
      for (auto s : v.s) {
        out->bytes.append(s.data(), s.size());
        out->offsets.push_back(static_cast<uint32_t>(out->bytes.size()));
      }
      break;
    }
  }
}

}  // namespace expr_internal

namespace {

using expr_internal::NodePtr;

class BoundExprImpl : public BoundExpr {
 public:
  BoundExprImpl(std::shared_ptr<const Expr> e, NodePtr root, std::string what, size_t columns)
      : expr_(std::move(e)), root_(std::move(root)), what_(std::move(what)), columns_(columns) {}

  Type result_type() const override { return root_->type; }

  absl::Status Filter(const Batch& batch, Selection* sel) const override {
    if (root_->type != Type::kBool) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": '", root_->text(), "' is ",
                                                     TypeName(root_->type), ", not a condition"));
    }
    DE_RETURN_IF_ERROR(CheckBatch(batch));
    if (sel->empty()) return absl::OkStatus();
    return root_->Narrow(batch, sel);
  }

  absl::Status Evaluate(const Batch& batch, Column* out) const override {
    DE_RETURN_IF_ERROR(CheckBatch(batch));
    expr_internal::Vec v;
    DE_RETURN_IF_ERROR(root_->Eval(batch, Selection::All(batch.num_rows), &v));
    expr_internal::VecToColumn(v, root_->type, out);
    return absl::OkStatus();
  }

  bool MayMatch(const std::vector<std::optional<ColumnRange>>& ranges) const override {
    if (root_->type != Type::kBool || ranges.size() < columns_) return true;
    return root_->MayMatch(ranges);
  }

 private:
  absl::Status CheckBatch(const Batch& batch) const {
    if (batch.columns.size() < columns_) {
      return absl::InternalError(absl::StrCat(what_, ": batch has ", batch.columns.size(),
                                              " columns, the bound schema ", columns_));
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const Expr> expr_;
  NodePtr root_;
  std::string what_;
  size_t columns_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BoundExpr>> BoundExpr::Bind(std::shared_ptr<const Expr> e,
                                                           const Schema& schema,
                                                           std::string_view what) {
  if (e == nullptr) return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": empty"));
  DE_ASSIGN_OR_RETURN(NodePtr root, expr_internal::BindNode(*e, schema, what));
  return std::unique_ptr<BoundExpr>(
      new BoundExprImpl(std::move(e), std::move(root), std::string(what), schema.size()));
}

absl::StatusOr<std::unique_ptr<BoundExpr>> BindPredicate(std::shared_ptr<const Expr> e,
                                                         const Schema& schema,
                                                         std::string_view what) {
  DE_ASSIGN_OR_RETURN(std::unique_ptr<BoundExpr> b, BoundExpr::Bind(e, schema, what));
  if (b->result_type() != Type::kBool) {
    return ExprErrorQuiet(what, e->column,
                          absl::StrCat("'", e->text(), "' is ", TypeName(b->result_type()),
                                       ", not a condition"));
  }
  return b;
}

absl::StatusOr<std::unique_ptr<BoundExpr>> CompilePredicate(std::string_view text,
                                                            const Schema& schema,
                                                            std::string_view what) {
  DE_ASSIGN_OR_RETURN(std::shared_ptr<const Expr> e, ParseExpr(text, what));
  DE_RETURN_IF_ERROR(CheckExprWithoutSchema(*e, what));
  return BindPredicate(std::move(e), schema, what);
}

}  // namespace de::engine
