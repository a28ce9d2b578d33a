// Filtering without materialising booleans: boolean nodes narrow a Selection in place, with one
// typed loop per (column, literal) comparison; and min/max row-group pruning (MayMatch).
#include <algorithm>
#include <cmath>
#include <functional>

#include "common/status.h"
#include "engine/ops/expr_nodes.h"

namespace de::engine::expr_internal {
namespace {

// The column a comparison tests, seeing through an int -> double cast.
struct ColumnOperand {
  const ColumnNode* col = nullptr;
  bool as_double = false;
};
ColumnOperand AsColumn(const NodePtr& n) {
  ColumnOperand out;
  out.col = dynamic_cast<const ColumnNode*>(n.get());
  if (out.col != nullptr) return out;
  auto* cast = dynamic_cast<const CastNode*>(n.get());
  if (cast != nullptr && cast->type == Type::kDouble) {
    out.col = dynamic_cast<const ColumnNode*>(cast->child.get());
    out.as_double = out.col != nullptr;
  }
  return out;
}

template <typename T, typename L, typename Cmp>
void RetainColLit(Selection* sel, const T* d, const uint8_t* v, L lit, Cmp cmp) {
  sel->Retain([d, v, lit, cmp](uint32_t r) {
    return (v[r] != 0) & cmp(static_cast<L>(d[r]), lit);
  });
}

template <typename T, typename L>
void ColLit(ExprOp op, Selection* sel, const T* d, const uint8_t* v, L lit) {
  switch (op) {
    case ExprOp::kEq: RetainColLit(sel, d, v, lit, std::equal_to<L>()); break;
    case ExprOp::kNe: RetainColLit(sel, d, v, lit, std::not_equal_to<L>()); break;
    case ExprOp::kLt: RetainColLit(sel, d, v, lit, std::less<L>()); break;
    case ExprOp::kLe: RetainColLit(sel, d, v, lit, std::less_equal<L>()); break;
    case ExprOp::kGt: RetainColLit(sel, d, v, lit, std::greater<L>()); break;
    case ExprOp::kGe: RetainColLit(sel, d, v, lit, std::greater_equal<L>()); break;
    default: break;
  }
}

// Keeps the valid rows of string column `c` whose value passes `pred`. On a dictionary-form
// column `pred` runs once per dictionary entry and rows are then kept by code.
template <typename Pred>
void RetainStrings(Selection* sel, const Column& c, Pred pred) {
  const uint8_t* v = c.valid.data();
  if (c.is_dictionary()) {
    const Column& d = *c.dictionary;
    std::vector<uint8_t> ok(std::max<size_t>(d.size(), 1));  // null rows read entry 0 (code 0)
    for (size_t k = 0; k < d.size(); ++k) ok[k] = pred(d.str(k)) ? 1 : 0;
    const uint32_t* codes = c.codes.data();
    const uint8_t* pass = ok.data();
    sel->Retain([=](uint32_t r) { return (v[r] & pass[codes[r]]) != 0; });
    return;
  }
  const uint32_t* off = c.offsets.data();
  const char* bytes = c.bytes.data();
  sel->Retain([=](uint32_t r) {
    return v[r] != 0 && pred(std::string_view(bytes + off[r], off[r + 1] - off[r]));
  });
}

template <typename Cmp>
void RetainStrLit(Selection* sel, const Column& c, std::string_view lit, Cmp cmp) {
  RetainStrings(sel, c, [lit, cmp](std::string_view s) { return cmp(s, lit); });
}

void StrLit(ExprOp op, Selection* sel, const Column& c, std::string_view lit) {
  using SV = std::string_view;
  switch (op) {
    case ExprOp::kEq: RetainStrLit(sel, c, lit, std::equal_to<SV>()); break;
    case ExprOp::kNe: RetainStrLit(sel, c, lit, std::not_equal_to<SV>()); break;
    case ExprOp::kLt: RetainStrLit(sel, c, lit, std::less<SV>()); break;
    case ExprOp::kLe: RetainStrLit(sel, c, lit, std::less_equal<SV>()); break;
    case ExprOp::kGt: RetainStrLit(sel, c, lit, std::greater<SV>()); break;
    case ExprOp::kGe: RetainStrLit(sel, c, lit, std::greater_equal<SV>()); break;
    default: break;
  }
}

template <typename T>
void ColCol(ExprOp op, Selection* sel, const T* a, const uint8_t* av, const T* b,
            const uint8_t* bv) {
  auto run = [&](auto cmp) {
    sel->Retain([=](uint32_t r) { return (av[r] & bv[r]) != 0 && cmp(a[r], b[r]); });
  };
  switch (op) {
    case ExprOp::kEq: run(std::equal_to<T>()); break;
    case ExprOp::kNe: run(std::not_equal_to<T>()); break;
    case ExprOp::kLt: run(std::less<T>()); break;
    case ExprOp::kLe: run(std::less_equal<T>()); break;
    case ExprOp::kGt: run(std::greater<T>()); break;
    case ExprOp::kGe: run(std::greater_equal<T>()); break;
    default: break;
  }
}

// Comparison of a column with a literal; false when the types have no fast loop.
bool NarrowColLit(ExprOp op, const Column& c, bool as_double, const LiteralNode& lit,
                  Selection* sel) {
  const uint8_t* v = c.valid.data();
  switch (c.type) {
    case Type::kBool:
      ColLit(op, sel, c.u8.data(), v, static_cast<int64_t>(lit.b ? 1 : 0));
      return true;
    case Type::kInt32:
    case Type::kDate:
      if (as_double) ColLit(op, sel, c.i32.data(), v, lit.d);
      else ColLit(op, sel, c.i32.data(), v, lit.i);
      return true;
    case Type::kInt64:
    case Type::kTimestamp:
      if (as_double) ColLit(op, sel, c.i64.data(), v, lit.d);
      else ColLit(op, sel, c.i64.data(), v, lit.i);
      return true;
    case Type::kDouble:
      ColLit(op, sel, c.f64.data(), v, lit.d);
      return true;
    case Type::kString:
      StrLit(op, sel, c, lit.s);
      return true;
    case Type::kDecimal:  // scaled on read: the general path
      return false;
  }
  return false;
}

bool NarrowColCol(ExprOp op, const Column& a, const Column& b, Selection* sel) {
  if (PhysOf(a.type) != PhysOf(b.type) || a.type == Type::kDecimal || b.type == Type::kDecimal) {
    return false;
  }
  const uint8_t* av = a.valid.data();
  const uint8_t* bv = b.valid.data();
  bool a32 = a.type == Type::kInt32 || a.type == Type::kDate;
  bool b32 = b.type == Type::kInt32 || b.type == Type::kDate;
  switch (PhysOf(a.type)) {
    case Phys::kInt:
      if (a32 != b32) return false;
      if (a32) ColCol(op, sel, a.i32.data(), av, b.i32.data(), bv);
      else ColCol(op, sel, a.i64.data(), av, b.i64.data(), bv);
      return true;
    case Phys::kDouble:
      ColCol(op, sel, a.f64.data(), av, b.f64.data(), bv);
      return true;
    default:
      return false;
  }
}

template <typename T>
bool RangeCmp(ExprOp op, const T& mn, const T& mx, const T& v) {
  switch (op) {
    case ExprOp::kEq: return mn <= v && v <= mx;
    case ExprOp::kNe: return !(mn == v && mx == v);
    case ExprOp::kLt: return mn < v;
    case ExprOp::kLe: return mn <= v;
    case ExprOp::kGt: return mx > v;
    case ExprOp::kGe: return mx >= v;
    default: return true;
  }
}

// The range of column `col`, or null when unknown.
const ColumnRange* RangeOf(const Ranges& rg, const ColumnNode* col) {
  if (col == nullptr || col->decimal || col->index < 0 ||
      static_cast<size_t>(col->index) >= rg.size()) {
    return nullptr;
  }
  const auto& r = rg[col->index];
  if (!r.has_value() || !r->has_min_max) return nullptr;
  if (col->type == Type::kDouble && (std::isnan(r->min_double) || std::isnan(r->max_double))) {
    return nullptr;
  }
  return &*r;
}

}  // namespace

absl::Status CompareNode::Narrow(const Batch& batch, Selection* sel) const {
  ColumnOperand left = AsColumn(l);
  if (left.col != nullptr) {
    const Column& c = batch.columns[left.col->index];
    if (auto* lit = dynamic_cast<const LiteralNode*>(r.get())) {
      if (lit->null_literal) {
        *sel = Selection::Of({});
        return absl::OkStatus();
      }
      if (NarrowColLit(op, c, left.as_double, *lit, sel)) return absl::OkStatus();
    } else if (auto* rc = dynamic_cast<const ColumnNode*>(r.get()); rc && !left.as_double) {
      if (NarrowColCol(op, c, batch.columns[rc->index], sel)) return absl::OkStatus();
    }
  }
  return Node::Narrow(batch, sel);
}

absl::Status ColumnNode::Narrow(const Batch& batch, Selection* sel) const {
  const Column& c = batch.columns[index];
  if (c.type != Type::kBool) return Node::Narrow(batch, sel);
  const uint8_t* v = c.valid.data();
  const uint8_t* d = c.u8.data();
  sel->Retain([v, d](uint32_t r) { return (v[r] & (d[r] != 0)) != 0; });
  return absl::OkStatus();
}

absl::Status IsNullNode::Narrow(const Batch& batch, Selection* sel) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  if (col == nullptr) return Node::Narrow(batch, sel);
  const uint8_t* v = batch.columns[col->index].valid.data();
  uint8_t want = negated ? 1 : 0;
  sel->Retain([v, want](uint32_t r) { return v[r] == want; });
  return absl::OkStatus();
}

absl::Status InNode::Narrow(const Batch& batch, Selection* sel) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  if (col == nullptr) return Node::Narrow(batch, sel);
  const Column& c = batch.columns[col->index];
  const uint8_t* v = c.valid.data();
  // A row is kept when found != negated; a non-match is null (dropped) when the list has null.
  const bool keep_found = !negated, keep_missing = negated && !has_null;
  switch (c.type) {
    case Type::kString:
      RetainStrings(sel, c, [&](std::string_view s) {
        return Contains(views_, s) ? keep_found : keep_missing;
      });
      return absl::OkStatus();
    case Type::kInt32:
    case Type::kDate: {
      const int32_t* d = c.i32.data();
      sel->Retain([&](uint32_t r) {
        return v[r] && (Contains(ints, static_cast<int64_t>(d[r])) ? keep_found : keep_missing);
      });
      return absl::OkStatus();
    }
    case Type::kInt64:
    case Type::kTimestamp: {
      const int64_t* d = c.i64.data();
      sel->Retain([&](uint32_t r) {
        return v[r] && (Contains(ints, d[r]) ? keep_found : keep_missing);
      });
      return absl::OkStatus();
    }
    case Type::kDouble: {
      const double* d = c.f64.data();
      sel->Retain([&](uint32_t r) {
        return v[r] && (Contains(doubles, d[r]) ? keep_found : keep_missing);
      });
      return absl::OkStatus();
    }
    default:
      return Node::Narrow(batch, sel);
  }
}

absl::Status LikeNode::Narrow(const Batch& batch, Selection* sel) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  if (col == nullptr) return Node::Narrow(batch, sel);
  const Column& c = batch.columns[col->index];
  const bool want = !negated;
  RetainStrings(sel, c, [&](std::string_view s) { return matcher.Match(s) == want; });
  return absl::OkStatus();
}

absl::Status AndOrNode::Narrow(const Batch& batch, Selection* sel) const {
  // In a filter only the rows where a node is true matter, so and/or treat null as false.
  if (is_and) {
    DE_RETURN_IF_ERROR(l->Narrow(batch, sel));
    if (sel->empty()) return absl::OkStatus();
    return r->Narrow(batch, sel);
  }
  Selection left = *sel;
  DE_RETURN_IF_ERROR(l->Narrow(batch, &left));
  if (left.size() == sel->size()) return absl::OkStatus();  // every row already true
  std::vector<uint32_t> rest;
  rest.reserve(sel->size() - left.size());
  size_t j = 0;
  ForEachRow(*sel, [&](size_t, uint32_t row) {
    if (j < left.size() && left[j] == row) {
      ++j;
    } else {
      rest.push_back(row);
    }
  });
  Selection right = Selection::Of(std::move(rest));
  DE_RETURN_IF_ERROR(r->Narrow(batch, &right));
  std::vector<uint32_t> merged(left.size() + right.size());
  std::vector<uint32_t>& li = left.Indices();
  std::vector<uint32_t>& ri = right.Indices();
  std::merge(li.begin(), li.end(), ri.begin(), ri.end(), merged.begin());
  *sel = Selection::Of(std::move(merged));
  return absl::OkStatus();
}

bool CompareNode::MayMatch(const Ranges& rg) const {
  ColumnOperand left = AsColumn(l);
  auto* lit = dynamic_cast<const LiteralNode*>(r.get());
  if (left.col == nullptr || lit == nullptr) return true;
  if (lit->null_literal) return false;  // a comparison with null is never true
  const ColumnRange* cr = RangeOf(rg, left.col);
  if (cr == nullptr) return true;
  switch (PhysOf(left.col->type)) {
    case Phys::kBool:
      return RangeCmp<int64_t>(op, cr->min_int, cr->max_int, lit->b ? 1 : 0);
    case Phys::kInt:
      if (left.as_double) {
        return RangeCmp<double>(op, static_cast<double>(cr->min_int),
                                static_cast<double>(cr->max_int), lit->d);
      }
      return RangeCmp<int64_t>(op, cr->min_int, cr->max_int, lit->i);
    case Phys::kDouble:
      return RangeCmp<double>(op, cr->min_double, cr->max_double, lit->d);
    case Phys::kString:
      return RangeCmp<std::string_view>(op, cr->min_string, cr->max_string, lit->s);
  }
  return true;
}

bool ColumnNode::MayMatch(const Ranges& rg) const {
  const ColumnRange* cr = type == Type::kBool ? RangeOf(rg, this) : nullptr;
  return cr == nullptr || cr->max_int >= 1;
}

bool IsNullNode::MayMatch(const Ranges& rg) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  if (negated || col == nullptr || static_cast<size_t>(col->index) >= rg.size()) return true;
  const auto& r = rg[col->index];
  return !r.has_value() || r->may_have_nulls;
}

bool InNode::MayMatch(const Ranges& rg) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  if (negated || col == nullptr) return true;
  const ColumnRange* cr = RangeOf(rg, col);
  if (cr == nullptr) return true;
  switch (PhysOf(col->type)) {
    case Phys::kBool:
    case Phys::kInt:
      return std::any_of(ints.begin(), ints.end(),
                         [&](int64_t x) { return cr->min_int <= x && x <= cr->max_int; });
    case Phys::kDouble:
      return std::any_of(doubles.begin(), doubles.end(),
                         [&](double x) { return cr->min_double <= x && x <= cr->max_double; });
    case Phys::kString:
      return std::any_of(strings.begin(), strings.end(), [&](const std::string& x) {
        return cr->min_string <= x && x <= cr->max_string;
      });
  }
  return true;
}

bool LikeNode::MayMatch(const Ranges& rg) const {
  auto* col = dynamic_cast<const ColumnNode*>(child.get());
  const std::string& p = matcher.prefix();
  if (negated || col == nullptr || p.empty()) return true;
  const ColumnRange* cr = RangeOf(rg, col);
  if (cr == nullptr) return true;
  // Strings starting with p form [p, next string after every p...): does it meet [min, max]?
  bool min_ok = cr->min_string <= p || cr->min_string.compare(0, p.size(), p) == 0;
  return cr->max_string >= p && min_ok;
}

}  // namespace de::engine::expr_internal
