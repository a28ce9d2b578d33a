// Binding: resolves column names against a schema, type-checks, inserts numeric and date casts,
// converts literals to their column's domain, and pushes `not` down to the leaves (so that a
// filter only ever needs the rows where a node is true).
#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/suggest.h"
#include "common/status.h"
#include "engine/ops/expr_nodes.h"

namespace de::engine::expr_internal {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

enum class Cat { kBool, kNum, kTime, kString };
Cat CatOf(Type t) {
  switch (t) {
    case Type::kBool: return Cat::kBool;
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDouble:
    case Type::kDecimal: return Cat::kNum;
    case Type::kDate:
    case Type::kTimestamp: return Cat::kTime;
    case Type::kString: return Cat::kString;
  }
  return Cat::kString;
}

ExprOp NegateOp(ExprOp op) {
  switch (op) {
    case ExprOp::kEq: return ExprOp::kNe;
    case ExprOp::kNe: return ExprOp::kEq;
    case ExprOp::kLt: return ExprOp::kGe;
    case ExprOp::kLe: return ExprOp::kGt;
    case ExprOp::kGt: return ExprOp::kLe;
    case ExprOp::kGe: return ExprOp::kLt;
    default: return op;
  }
}
ExprOp MirrorOp(ExprOp op) {  // a op b == b Mirror(op) a
  switch (op) {
    case ExprOp::kLt: return ExprOp::kGt;
    case ExprOp::kLe: return ExprOp::kGe;
    case ExprOp::kGt: return ExprOp::kLt;
    case ExprOp::kGe: return ExprOp::kLe;
    default: return op;
  }
}

LiteralNode* AsLiteral(const NodePtr& n) { return dynamic_cast<LiteralNode*>(n.get()); }

class Binder {
 public:
  Binder(const Schema& schema, std::string_view what) : schema_(schema), what_(what) {}

  absl::StatusOr<NodePtr> Bind(const Expr& e, bool negate) {
    switch (e.op) {
      case ExprOp::kLiteral: return BindLiteral(e, negate);
      case ExprOp::kColumn: return BindColumn(e, negate);
      case ExprOp::kNot: {
        DE_ASSIGN_OR_RETURN(NodePtr child, Bind(*e.args[0], !negate));
        DE_RETURN_IF_ERROR(RequireBool(*child, *e.args[0], e));
        return child;
      }
      case ExprOp::kAnd:
      case ExprOp::kOr: {
        DE_ASSIGN_OR_RETURN(NodePtr l, Bind(*e.args[0], negate));
        DE_RETURN_IF_ERROR(RequireBool(*l, *e.args[0], e));
        DE_ASSIGN_OR_RETURN(NodePtr r, Bind(*e.args[1], negate));
        DE_RETURN_IF_ERROR(RequireBool(*r, *e.args[1], e));
        bool is_and = (e.op == ExprOp::kAnd) != negate;
        return NodePtr(new AndOrNode(is_and, std::move(l), std::move(r), e));
      }
      case ExprOp::kIsNull: {
        DE_ASSIGN_OR_RETURN(NodePtr child, Bind(*e.args[0], false));
        return NodePtr(new IsNullNode(std::move(child), e.negated != negate, e));
      }
      case ExprOp::kIn: return BindIn(e, negate);
      case ExprOp::kLike: return BindLike(e, negate);
      case ExprOp::kBetween: return BindBetween(e, negate);
      case ExprOp::kNeg:
      default: {
        if (IsComparison(e.op)) return BindCompare(e.op, *e.args[0], *e.args[1], e, negate);
        absl::StatusOr<NodePtr> n = e.op == ExprOp::kNeg ? BindNeg(e) : BindArith(e);
        if (n.ok() && negate) return NotCondition(**n, e, e);
        return n;
      }
    }
  }

  absl::Status RequireBool(const Node& n, const Expr& operand, const Expr& whole) {
    if (n.type == Type::kBool) return absl::OkStatus();
    return NotCondition(n, operand, whole);
  }

 private:
  absl::Status NotCondition(const Node& n, const Expr& operand, const Expr& whole) {
    if (&operand == &whole || operand.text() == whole.text()) {
      return ExprErrorQuiet(what_, operand.column,
                            absl::StrCat("'", operand.text(), "' is ", n.type_name,
                                         ", not a condition"));
    }
    return ExprErrorQuiet(what_, operand.column,
                          absl::StrCat("'", whole.text(), "': '", operand.text(), "' is ",
                                       n.type_name, ", not a condition"));
  }

  absl::StatusOr<NodePtr> BindLiteral(const Expr& e, bool negate) {
    using K = ExprLiteral::Kind;
    static constexpr Type kTypes[] = {Type::kBool,   Type::kBool, Type::kInt64,    Type::kDouble,
                                      Type::kString, Type::kDate, Type::kTimestamp};
    auto n = std::make_unique<LiteralNode>(kTypes[static_cast<int>(e.lit.kind)], e);
    n->null_literal = e.lit.kind == K::kNull;
    n->type_name = LiteralKindName(e.lit.kind);
    n->b = e.lit.b;
    n->i = e.lit.i;
    n->d = e.lit.d;
    n->s = e.lit.s;
    if (negate) {
      DE_RETURN_IF_ERROR(RequireBool(*n, e, e));
      n->b = !n->b;
    }
    return NodePtr(std::move(n));
  }

  absl::StatusOr<NodePtr> BindColumn(const Expr& e, bool negate) {
    int index = -1;
    for (size_t i = 0; i < schema_.size(); ++i) {
      if (schema_[i].name == e.name) {
        index = static_cast<int>(i);
        break;
      }
    }
    if (index < 0) {  // a unique case-insensitive match is accepted
      std::string lower = absl::AsciiStrToLower(e.name);
      for (size_t i = 0; i < schema_.size(); ++i) {
        if (absl::AsciiStrToLower(schema_[i].name) != lower) continue;
        if (index >= 0) {
          index = -1;
          break;
        }
        index = static_cast<int>(i);
      }
    }
    if (index < 0) return UnknownColumn(e);
    // Decimal columns take part in expressions as doubles (unscaled / 10^scale).
    bool decimal = schema_[index].type == Type::kDecimal;
    auto col = std::make_unique<ColumnNode>(decimal ? Type::kDouble : schema_[index].type, e, index);
    col->decimal = decimal;
    if (decimal) col->type_name = "decimal";
    if (!negate) return NodePtr(std::move(col));
    DE_RETURN_IF_ERROR(RequireBool(*col, e, e));
    auto f = std::make_unique<LiteralNode>(Type::kBool, e);  // `not c` is `c = false`
    f->type_name = "bool";
    return NodePtr(new CompareNode(ExprOp::kEq, std::move(col), std::move(f), e));
  }

  absl::Status UnknownColumn(const Expr& e) {
    std::vector<std::string> names;
    for (const auto& f : schema_) names.push_back(f.name);
    std::string hint = dag::DidYouMean(e.name, names);
    if (hint.empty() && !names.empty() && names.size() <= 20) {
      hint = absl::StrCat(" (columns: ", absl::StrJoin(names, ", "), ")");
    }
    return ExprErrorAt(what_, e.column, absl::StrCat("no column '", e.name, "'", hint));
  }

  absl::Status Incomparable(const Node& l, const Node& r, const Expr& whole) {
    return ExprErrorQuiet(what_, whole.column,
                          absl::StrCat("'", whole.text(), "' compares ", l.type_name, " with ",
                                       r.type_name));
  }

  // Changes literal `lit` to `type` (same category, or a 'YYYY-MM-DD' string for a time type).
  absl::Status ConvertLiteral(LiteralNode* lit, Type type) {
    if (lit->null_literal) {
      lit->type = type;
      return absl::OkStatus();
    }
    if (CatOf(type) == Cat::kTime && lit->type == Type::kString) {
      int64_t v = 0;
      bool ok = type == Type::kDate ? ParseExprDate(lit->s, &v) : ParseExprTimestamp(lit->s, &v);
      if (!ok) {
        return ExprErrorAt(what_, lit->column,
                           absl::StrCat("'", lit->s, "' is not a ", TypeName(type),
                                        type == Type::kDate ? " (YYYY-MM-DD)"
                                                            : " (YYYY-MM-DD HH:MM:SS)"));
      }
      lit->i = v;
    } else if (type == Type::kDouble && lit->type != Type::kDouble) {
      lit->d = static_cast<double>(lit->i);
    } else if (type == Type::kTimestamp && lit->type == Type::kDate) {
      lit->i *= kMicrosPerDay;
    }
    lit->type = type;
    return absl::OkStatus();
  }

  // Wraps *n in a cast to `type` (int -> double, date -> timestamp); converts a literal in place.
  absl::Status Widen(NodePtr* n, Type type, const Expr& whole) {
    if ((*n)->type == type) return absl::OkStatus();
    if (LiteralNode* lit = AsLiteral(*n)) return ConvertLiteral(lit, type);
    *n = NodePtr(new CastNode(type, std::move(*n), whole));
    return absl::OkStatus();
  }

  // Makes l and r comparable: the same physical kind, preferring to convert literals.
  absl::Status Unify(NodePtr* l, NodePtr* r, const Expr& whole) {
    if ((*l)->null_literal || (*r)->null_literal) {
      NodePtr* null_side = (*l)->null_literal ? l : r;
      NodePtr* other = (*l)->null_literal ? r : l;
      (*null_side)->type = (*other)->type;
      return absl::OkStatus();
    }
    Cat lc = CatOf((*l)->type), rc = CatOf((*r)->type);
    if (lc == Cat::kNum && rc == Cat::kNum) {
      if (PhysOf((*l)->type) == PhysOf((*r)->type)) return absl::OkStatus();
      DE_RETURN_IF_ERROR(Widen(l, Type::kDouble, whole));
      return Widen(r, Type::kDouble, whole);
    }
    if (lc == Cat::kTime && rc == Cat::kTime) {
      if ((*l)->type == (*r)->type) return absl::OkStatus();
      DE_RETURN_IF_ERROR(Widen(l, Type::kTimestamp, whole));
      return Widen(r, Type::kTimestamp, whole);
    }
    if (lc == Cat::kTime && rc == Cat::kString && AsLiteral(*r)) {
      return ConvertLiteral(AsLiteral(*r), (*l)->type);
    }
    if (rc == Cat::kTime && lc == Cat::kString && AsLiteral(*l)) {
      return ConvertLiteral(AsLiteral(*l), (*r)->type);
    }
    if (lc == rc) return absl::OkStatus();
    return Incomparable(**l, **r, whole);
  }

  absl::StatusOr<NodePtr> Operand(const Expr& e, const Expr& whole) {
    DE_ASSIGN_OR_RETURN(NodePtr n, Bind(e, false));
    return n;
  }

  absl::StatusOr<NodePtr> BindCompare(ExprOp op, const Expr& le, const Expr& re,
                                      const Expr& whole, bool negate) {
    DE_ASSIGN_OR_RETURN(NodePtr l, Operand(le, whole));
    DE_ASSIGN_OR_RETURN(NodePtr r, Operand(re, whole));
    DE_RETURN_IF_ERROR(Unify(&l, &r, whole));
    if (negate) op = NegateOp(op);
    if (AsLiteral(l) && !AsLiteral(r)) {  // literal op column -> column op' literal
      std::swap(l, r);
      op = MirrorOp(op);
    }
    return NodePtr(new CompareNode(op, std::move(l), std::move(r), whole));
  }

  absl::StatusOr<NodePtr> BindBetween(const Expr& e, bool negate) {
    bool neg = e.negated != negate;  // not between: x < lo or x > hi
    DE_ASSIGN_OR_RETURN(NodePtr lo, BindCompare(neg ? ExprOp::kLt : ExprOp::kGe, *e.args[0],
                                                *e.args[1], e, false));
    DE_ASSIGN_OR_RETURN(NodePtr hi, BindCompare(neg ? ExprOp::kGt : ExprOp::kLe, *e.args[0],
                                                *e.args[2], e, false));
    return NodePtr(new AndOrNode(!neg, std::move(lo), std::move(hi), e));
  }

  absl::StatusOr<NodePtr> BindIn(const Expr& e, bool negate) {
    DE_ASSIGN_OR_RETURN(NodePtr child, Operand(*e.args[0], e));
    std::vector<NodePtr> items;
    for (size_t k = 1; k < e.args.size(); ++k) {
      DE_ASSIGN_OR_RETURN(NodePtr it, Operand(*e.args[k], e));
      items.push_back(std::move(it));
    }
    if (child->null_literal) {  // null in (...) is null
      for (auto& it : items) {
        if (!it->null_literal) child->type = it->type;
      }
    }
    // Widen the tested value first (int -> double, date -> timestamp) so only literals convert.
    for (auto& it : items) {
      if (it->null_literal) continue;
      Cat cc = CatOf(child->type), ic = CatOf(it->type);
      if (cc == Cat::kNum && ic == Cat::kNum && it->type == Type::kDouble) {
        DE_RETURN_IF_ERROR(Widen(&child, Type::kDouble, e));
      } else if (cc == Cat::kTime && it->type == Type::kTimestamp) {
        DE_RETURN_IF_ERROR(Widen(&child, Type::kTimestamp, e));
      }
    }
    auto in = std::make_unique<InNode>(std::move(child), e.negated != negate, e);
    for (auto& it : items) {
      DE_RETURN_IF_ERROR(Unify(&in->child, &it, e));
      LiteralNode* lit = AsLiteral(it);
      if (lit->null_literal) {
        in->has_null = true;
        continue;
      }
      switch (PhysOf(in->child->type)) {
        case Phys::kBool: in->ints.push_back(lit->b ? 1 : 0); break;
        case Phys::kInt: in->ints.push_back(lit->i); break;
        case Phys::kDouble: in->doubles.push_back(lit->d); break;
        case Phys::kString: in->strings.push_back(lit->s); break;
      }
    }
    in->Finish();
    return NodePtr(std::move(in));
  }

  absl::StatusOr<NodePtr> BindLike(const Expr& e, bool negate) {
    DE_ASSIGN_OR_RETURN(NodePtr child, Operand(*e.args[0], e));
    if (child->null_literal) child->type = Type::kString;
    if (child->type != Type::kString) {
      return ExprErrorQuiet(what_, e.column,
                            absl::StrCat("'", e.text(), "': like needs a string, '",
                                         e.args[0]->text(), "' is ", child->type_name));
    }
    return NodePtr(new LikeNode(std::move(child), e.negated != negate, e.lit.s, e));
  }

  absl::Status RequireNumber(NodePtr* n, const Expr& operand, const Expr& whole) {
    if ((*n)->null_literal) return absl::OkStatus();
    if (CatOf((*n)->type) == Cat::kNum) return absl::OkStatus();
    return ExprErrorQuiet(what_, whole.column,
                          absl::StrCat("'", whole.text(), "' is arithmetic on ", (*n)->type_name,
                                       " ('", operand.text(), "')"));
  }

  absl::StatusOr<NodePtr> BindNeg(const Expr& e) {
    DE_ASSIGN_OR_RETURN(NodePtr child, Operand(*e.args[0], e));
    DE_RETURN_IF_ERROR(RequireNumber(&child, *e.args[0], e));
    if (child->null_literal) child->type = Type::kInt64;
    Type t = child->type == Type::kDouble ? Type::kDouble : Type::kInt64;
    return NodePtr(new NegNode(t, std::move(child), e, std::string(what_)));
  }

  absl::StatusOr<NodePtr> BindArith(const Expr& e) {
    DE_ASSIGN_OR_RETURN(NodePtr l, Operand(*e.args[0], e));
    DE_ASSIGN_OR_RETURN(NodePtr r, Operand(*e.args[1], e));
    DE_RETURN_IF_ERROR(RequireNumber(&l, *e.args[0], e));
    DE_RETURN_IF_ERROR(RequireNumber(&r, *e.args[1], e));
    if (l->null_literal) l->type = r->null_literal ? Type::kInt64 : r->type;
    if (r->null_literal) r->type = l->type;
    bool dbl = e.op == ExprOp::kDiv || l->type == Type::kDouble || r->type == Type::kDouble;
    Type t = dbl ? Type::kDouble : Type::kInt64;
    if (dbl) {
      DE_RETURN_IF_ERROR(Widen(&l, Type::kDouble, e));
      DE_RETURN_IF_ERROR(Widen(&r, Type::kDouble, e));
    }
    return NodePtr(new ArithNode(t, e.op, std::move(l), std::move(r), e, std::string(what_)));
  }

  const Schema& schema_;
  std::string_view what_;
};

}  // namespace

Phys PhysOf(Type t) {
  switch (t) {
    case Type::kBool: return Phys::kBool;
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDate:
    case Type::kTimestamp: return Phys::kInt;
    case Type::kDouble:
    case Type::kDecimal: return Phys::kDouble;
    case Type::kString: return Phys::kString;
  }
  return Phys::kString;
}

absl::StatusOr<NodePtr> BindNode(const Expr& e, const Schema& schema, std::string_view what) {
  Binder binder(schema, what);
  return binder.Bind(e, false);
}

}  // namespace de::engine::expr_internal
