// The expression language: row-group pruning (MayMatch), and a property test comparing the
// vectorised Filter/Evaluate with a simple row-at-a-time interpreter on random batches with nulls.
#include <cmath>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/ops/expr.h"
#include "engine/ops/expr_ast.h"
#include "tests/unit/engine/expr_test_util.h"

namespace de::engine {
namespace {

using namespace testing_util;  // NOLINT

Schema RangeSchema() {
  return {{"n", Type::kInt64}, {"x", Type::kDouble}, {"s", Type::kString},
          {"d", Type::kDate},  {"t", Type::kBool},   {"k", Type::kInt32}};
}

// n in [10, 20], x in [-1.5, 2.5], s in ['bar', 'foo'], d in [2024-01-01, 2024-01-31], t false
// only, k unknown; n has no nulls.
ColumnRange Range(bool nulls, int64_t lo, int64_t hi, double dlo = 0, double dhi = 0,
                  std::string slo = "", std::string shi = "") {
  ColumnRange r;
  r.has_min_max = true;
  r.may_have_nulls = nulls;
  r.min_int = lo;
  r.max_int = hi;
  r.min_double = dlo;
  r.max_double = dhi;
  r.min_string = std::move(slo);
  r.max_string = std::move(shi);
  return r;
}

std::vector<std::optional<ColumnRange>> Ranges() {
  std::vector<std::optional<ColumnRange>> r(6);
  r[0] = Range(false, 10, 20);
  r[1] = Range(true, 0, 0, -1.5, 2.5);
  r[2] = Range(true, 0, 0, 0, 0, "bar", "foo");
  int64_t lo, hi;
  ParseExprDate("2024-01-01", &lo);
  ParseExprDate("2024-01-31", &hi);
  r[3] = Range(true, lo, hi);
  r[4] = Range(true, 0, 0);
  return r;
}

bool May(std::string_view text) {
  auto b = CompilePredicate(text, RangeSchema());
  EXPECT_TRUE(b.ok()) << text << ": " << b.status();
  return b.ok() && (*b)->MayMatch(Ranges());
}

TEST(ExprMayMatchTest, ComparisonsWithLiterals) {
  EXPECT_TRUE(May("n = 10"));
  EXPECT_TRUE(May("n = 20"));
  EXPECT_FALSE(May("n = 21"));
  EXPECT_FALSE(May("n > 20"));
  EXPECT_TRUE(May("n >= 20"));
  EXPECT_FALSE(May("n < 10"));
  EXPECT_TRUE(May("n <= 10"));
  EXPECT_FALSE(May("25 < n"));           // literal on the left
  EXPECT_TRUE(May("n != 15"));
  EXPECT_FALSE(May("n > 20.5"));         // int column, double literal
  EXPECT_TRUE(May("n > 19.5"));
  EXPECT_FALSE(May("x > 2.5"));
  EXPECT_TRUE(May("x >= 2.5"));
  EXPECT_FALSE(May("x < -2"));            // double column, int literal
  EXPECT_FALSE(May("s = 'zzz'"));
  EXPECT_FALSE(May("s < 'bar'"));
  EXPECT_TRUE(May("s = 'cat'"));
  EXPECT_FALSE(May("d >= '2024-02-01'"));
  EXPECT_TRUE(May("d >= date '2024-01-31'"));
  EXPECT_FALSE(May("d < '2024-01-01'"));
  EXPECT_FALSE(May("t"));
  EXPECT_TRUE(May("not t"));
  EXPECT_FALSE(May("n = null"));
  EXPECT_FALSE(May("false"));
  EXPECT_TRUE(May("k = 123456"));        // unknown range: may match
  EXPECT_TRUE(May("n + 100 = 5"));       // not a column-literal comparison: may match
}

TEST(ExprMayMatchTest, BooleanStructureInBetweenNullsLike) {
  EXPECT_FALSE(May("n > 20 and s = 'bar'"));
  EXPECT_TRUE(May("n > 20 or s = 'bar'"));
  EXPECT_FALSE(May("n > 20 or s = 'zzz'"));
  EXPECT_FALSE(May("not (n <= 20)"));
  EXPECT_TRUE(May("not (n < 20)"));
  EXPECT_FALSE(May("not (n >= 10 and n <= 20)"));
  EXPECT_FALSE(May("n between 21 and 30"));
  EXPECT_TRUE(May("n between 0 and 10"));
  EXPECT_FALSE(May("n not between 5 and 25"));
  EXPECT_TRUE(May("n not between 5 and 15"));
  EXPECT_FALSE(May("n in (1, 2, 30)"));
  EXPECT_TRUE(May("n in (1, 15)"));
  EXPECT_FALSE(May("s in ('a', 'zebra')"));
  EXPECT_TRUE(May("s not in ('a', 'zebra')"));
  EXPECT_FALSE(May("n is null"));         // n has no nulls
  EXPECT_TRUE(May("x is null"));
  EXPECT_TRUE(May("n is not null"));
  EXPECT_FALSE(May("s like 'z%'"));
  EXPECT_FALSE(May("s like 'a%'"));
  EXPECT_TRUE(May("s like 'b%'"));
  EXPECT_TRUE(May("s like 'fo%'"));
  EXPECT_TRUE(May("s like 'foo%'"));
  EXPECT_FALSE(May("s like 'fop%'"));
  EXPECT_TRUE(May("s like '%z'"));        // no prefix: may match
}

TEST(ExprMayMatchTest, MissingOrShortRangesMayMatch) {
  auto b = CompilePredicate("n > 100", RangeSchema());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)->MayMatch({}));
  std::vector<std::optional<ColumnRange>> r(6);
  EXPECT_TRUE((*b)->MayMatch(r));
  r[0] = ColumnRange{};  // has_min_max false
  EXPECT_TRUE((*b)->MayMatch(r));
}

// ---- Property test: vectorised vs a row-at-a-time reference ----

struct RVal {
  bool null = true;
  char k = 'n';  // b i d s
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  double AsDouble() const { return k == 'd' ? d : static_cast<double>(i); }
};

RVal Null() { return RVal{}; }
RVal Bool(bool v) { RVal r; r.null = false; r.k = 'b'; r.b = v; return r; }

bool LikeRef(std::string_view p, std::string_view s) {  // ASCII only, recursive
  if (p.empty()) return s.empty();
  if (p[0] == '%') return LikeRef(p.substr(1), s) || (!s.empty() && LikeRef(p, s.substr(1)));
  if (s.empty()) return false;
  if (p[0] == '_' || p[0] == s[0]) return LikeRef(p.substr(1), s.substr(1));
  return false;
}

class Reference {
 public:
  Reference(const Batch& b, size_t row) : b_(b), row_(row) {}

  RVal Eval(const Expr& e) const {
    switch (e.op) {
      case ExprOp::kLiteral: return Lit(e.lit);
      case ExprOp::kColumn: return Col(e.name);
      case ExprOp::kNot: {
        RVal v = Eval(*e.args[0]);
        return v.null ? v : Bool(!v.b);
      }
      case ExprOp::kAnd:
      case ExprOp::kOr: {
        RVal a = Eval(*e.args[0]), c = Eval(*e.args[1]);
        bool is_and = e.op == ExprOp::kAnd;
        if ((!a.null && a.b != is_and) || (!c.null && c.b != is_and)) return Bool(!is_and);
        if (a.null || c.null) return Null();
        return Bool(is_and);
      }
      case ExprOp::kIsNull: return Bool(Eval(*e.args[0]).null != e.negated);
      case ExprOp::kLike: {
        RVal v = Eval(*e.args[0]);
        return v.null ? v : Bool(LikeRef(e.lit.s, v.s) != e.negated);
      }
      case ExprOp::kIn: {
        RVal v = Eval(*e.args[0]);
        if (v.null) return v;
        bool found = false, has_null = false;
        for (size_t k = 1; k < e.args.size(); ++k) {
          RVal item = Eval(*e.args[k]);
          if (item.null) has_null = true;
          else if (Compare(ExprOp::kEq, v, item).b) found = true;
        }
        if (!found && has_null) return Null();
        return Bool(found != e.negated);
      }
      case ExprOp::kBetween: {
        RVal v = Eval(*e.args[0]);
        RVal lo = Compare(ExprOp::kGe, v, Eval(*e.args[1]));
        RVal hi = Compare(ExprOp::kLe, v, Eval(*e.args[2]));
        RVal both = (!lo.null && !lo.b) || (!hi.null && !hi.b) ? Bool(false)
                    : (lo.null || hi.null)                     ? Null()
                                                               : Bool(true);
        return both.null || !e.negated ? both : Bool(!both.b);
      }
      case ExprOp::kNeg: {
        RVal v = Eval(*e.args[0]);
        if (v.null) return v;
        v.i = -v.i;
        v.d = -v.d;
        return v;
      }
      default:
        if (IsComparison(e.op)) return Compare(e.op, Eval(*e.args[0]), Eval(*e.args[1]));
        return Arith(e.op, Eval(*e.args[0]), Eval(*e.args[1]));
    }
  }

 private:
  static RVal Lit(const ExprLiteral& l) {
    RVal r;
    r.null = l.kind == ExprLiteral::Kind::kNull;
    if (l.kind == ExprLiteral::Kind::kInt) r.k = 'i';
    if (l.kind == ExprLiteral::Kind::kDouble) r.k = 'd';
    if (l.kind == ExprLiteral::Kind::kString) r.k = 's';
    if (l.kind == ExprLiteral::Kind::kBool) r.k = 'b';
    r.b = l.b;
    r.i = l.i;
    r.d = l.d;
    r.s = l.s;
    return r;
  }
  RVal Col(const std::string& name) const {
    static const char* kNames[] = {"a", "b", "x", "s", "t"};
    int c = 0;
    while (name != kNames[c]) ++c;
    const Column& col = b_.columns[c];
    RVal r;
    r.null = !col.valid[row_];
    if (r.null) return r;
    switch (col.type) {
      case Type::kInt64: r.k = 'i'; r.i = col.i64[row_]; break;
      case Type::kInt32: r.k = 'i'; r.i = col.i32[row_]; break;
      case Type::kDouble: r.k = 'd'; r.d = col.f64[row_]; break;
      case Type::kString: r.k = 's'; r.s = std::string(col.str(row_)); break;
      default: r.k = 'b'; r.b = col.u8[row_]; break;
    }
    return r;
  }
  template <typename T>
  static bool Cmp(ExprOp op, const T& a, const T& b) {
    switch (op) {
      case ExprOp::kEq: return a == b;
      case ExprOp::kNe: return a != b;
      case ExprOp::kLt: return a < b;
      case ExprOp::kLe: return a <= b;
      case ExprOp::kGt: return a > b;
      default: return a >= b;
    }
  }
  static RVal Compare(ExprOp op, const RVal& a, const RVal& b) {
    if (a.null || b.null) return Null();
    if (a.k == 's') return Bool(Cmp(op, a.s, b.s));
    if (a.k == 'b') return Bool(Cmp(op, a.b, b.b));
    if (a.k == 'd' || b.k == 'd') return Bool(Cmp(op, a.AsDouble(), b.AsDouble()));
    return Bool(Cmp(op, a.i, b.i));
  }
  static RVal Arith(ExprOp op, const RVal& a, const RVal& b) {
    if (a.null || b.null) return Null();
    RVal r;
    r.null = false;
    if (op == ExprOp::kDiv || a.k == 'd' || b.k == 'd') {
      double x = a.AsDouble(), y = b.AsDouble();
      r.k = 'd';
      if ((op == ExprOp::kDiv || op == ExprOp::kMod) && y == 0) return Null();
      r.d = op == ExprOp::kAdd   ? x + y
            : op == ExprOp::kSub ? x - y
            : op == ExprOp::kMul ? x * y
            : op == ExprOp::kDiv ? x / y
                                 : std::fmod(x, y);
      return r;
    }
    r.k = 'i';
    if (op == ExprOp::kMod && b.i == 0) return Null();
    r.i = op == ExprOp::kAdd   ? a.i + b.i
          : op == ExprOp::kSub ? a.i - b.i
          : op == ExprOp::kMul ? a.i * b.i
                               : a.i % b.i;
    return r;
  }

  const Batch& b_;
  size_t row_;
};

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  Batch RandomBatch(size_t rows) {
    static const char* kStrings[] = {"", "a", "ab", "b", "ba", "abc", "cab", "bb"};
    Opt<int64_t> a, b, t;
    Opt<double> x;
    Opt<std::string> s;
    for (size_t r = 0; r < rows; ++r) {
      a.push_back(Chance(0.2) ? std::nullopt : std::optional<int64_t>(Pick(11) - 5));
      b.push_back(Chance(0.1) ? std::nullopt : std::optional<int64_t>(Pick(11) - 5));
      x.push_back(Chance(0.2) ? std::nullopt : std::optional<double>((Pick(11) - 5) * 0.5));
      s.push_back(Chance(0.2) ? std::nullopt : std::optional<std::string>(kStrings[Pick(8)]));
      t.push_back(Chance(0.3) ? std::nullopt : std::optional<int64_t>(Pick(2)));
    }
    return MakeBatch({IntColumn(a), IntColumn(b, Type::kInt32), DoubleColumn(x), StringColumn(s),
                      IntColumn(t, Type::kBool)});
  }

  std::string Num(int depth) {
    static const char* kOps[] = {"+", "-", "*", "/", "%"};
    if (depth == 0 || Chance(0.5)) {
      switch (Pick(7)) {
        case 0: return "a";
        case 1: return "b";
        case 2: return "x";
        case 3: return std::to_string(Pick(11) - 5);
        case 4: return std::to_string(Pick(9) - 4) + ".5";
        case 5: return Chance(0.3) ? "null" : "a";
        default: return "-" + std::string(Chance(0.5) ? "a" : "x");
      }
    }
    return "(" + Num(depth - 1) + " " + kOps[Pick(5)] + " " + Num(depth - 1) + ")";
  }

  std::string Pred(int depth) {
    static const char* kCmp[] = {"=", "!=", "<", "<=", ">", ">="};
    static const char* kStr[] = {"''", "'a'", "'ab'", "'b'", "'ba'", "'abc'"};
    static const char* kLike[] = {"'a%'", "'%b'", "'%a%'", "'_b'", "'a_c'", "'%'",
                                  "''",   "'a%c%'", "'%_%b'"};
    std::string no = Chance(0.3) ? "not " : "";
    int choice = depth == 0 ? Pick(8) : Pick(11);
    switch (choice) {
      case 0: return Num(2) + " " + kCmp[Pick(6)] + " " + Num(1);
      case 1: return std::string("s ") + kCmp[Pick(6)] + " " + kStr[Pick(6)];
      case 2: return "s " + no + "in ('a', 'b'" + (Chance(0.3) ? ", null" : "") + ")";
      case 3: return "a " + no + "in (1, 2, -3" + (Chance(0.3) ? ", null" : "") + ")";
      case 4: return "s " + no + "like " + kLike[Pick(9)];
      case 5: return Num(1) + " " + no + "between " + Num(1) + " and " + Num(1);
      case 6: return std::string(Chance(0.5) ? "a" : Chance(0.5) ? "s" : "t") + " is " + no + "null";
      case 7: return Chance(0.5) ? "t" : "not t";
      case 8: return "not (" + Pred(depth - 1) + ")";
      case 9: return "(" + Pred(depth - 1) + " and " + Pred(depth - 1) + ")";
      default: return "(" + Pred(depth - 1) + " or " + Pred(depth - 1) + ")";
    }
  }

  Selection RandomSelection(size_t rows) {
    if (Chance(0.5)) return Selection::All(rows);
    std::vector<uint32_t> idx;
    for (uint32_t r = 0; r < rows; ++r) {
      if (Chance(0.6)) idx.push_back(r);
    }
    return Selection::Of(std::move(idx));
  }

 private:
  std::mt19937 rng_;
};

Schema PropertySchema() {
  return {{"a", Type::kInt64}, {"b", Type::kInt32}, {"x", Type::kDouble}, {"s", Type::kString},
          {"t", Type::kBool}};
}

// Exact min/max of a batch's columns, as a Parquet writer would record them.
std::vector<std::optional<ColumnRange>> RangesOf(const Batch& batch) {
  std::vector<std::optional<ColumnRange>> out;
  for (const Column& c : batch.columns) {
    ColumnRange r;
    r.may_have_nulls = false;
    for (size_t i = 0; i < c.size(); ++i) {
      if (!c.valid[i]) {
        r.may_have_nulls = true;
        continue;
      }
      int64_t iv = c.type == Type::kInt64 ? c.i64[i] : c.type == Type::kInt32 ? c.i32[i]
                   : c.type == Type::kBool ? c.u8[i] : 0;
      double dv = c.type == Type::kDouble ? c.f64[i] : 0;
      std::string sv = c.type == Type::kString ? std::string(c.str(i)) : "";
      if (!r.has_min_max) {
        r.has_min_max = true;
        r.min_int = r.max_int = iv;
        r.min_double = r.max_double = dv;
        r.min_string = r.max_string = sv;
      }
      r.min_int = std::min(r.min_int, iv);
      r.max_int = std::max(r.max_int, iv);
      r.min_double = std::min(r.min_double, dv);
      r.max_double = std::max(r.max_double, dv);
      r.min_string = std::min(r.min_string, sv);
      r.max_string = std::max(r.max_string, sv);
    }
    out.push_back(r);
  }
  return out;
}

TEST(ExprPropertyTest, VectorisedMatchesRowAtATimeReference) {
  Gen gen(20261128);
  int checked = 0, kept_some = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    size_t rows = 1 + gen.Pick(70);
    Batch batch = gen.RandomBatch(rows);
    std::string text = gen.Pred(3);
    auto parsed = ParseExpr(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    auto bound = BindPredicate(*parsed, PropertySchema());
    ASSERT_TRUE(bound.ok()) << text << ": " << bound.status();

    Selection sel = gen.RandomSelection(rows);
    std::vector<uint32_t> input;
    for (size_t i = 0; i < sel.size(); ++i) input.push_back(sel[i]);
    ASSERT_TRUE((*bound)->Filter(batch, &sel).ok()) << text;
    std::vector<uint32_t> got;
    for (size_t i = 0; i < sel.size(); ++i) got.push_back(sel[i]);

    Column evaluated;
    ASSERT_TRUE((*bound)->Evaluate(batch, &evaluated).ok()) << text;
    std::vector<uint32_t> want;
    for (uint32_t r = 0; r < rows; ++r) {
      RVal v = Reference(batch, r).Eval(**parsed);
      ASSERT_EQ(evaluated.valid[r] == 0, v.null) << text << " row " << r;
      if (!v.null) {
        ASSERT_EQ(evaluated.u8[r] != 0, v.b) << text << " row " << r;
      }
      if (!v.null && v.b && std::find(input.begin(), input.end(), r) != input.end()) {
        want.push_back(r);
      }
    }
    ASSERT_EQ(got, want) << text;

    // Pruning is conservative: a batch with a matching row is never skipped.
    bool any = false;
    for (uint32_t r = 0; r < rows; ++r) any |= evaluated.valid[r] && evaluated.u8[r];
    if (any) {
      ASSERT_TRUE((*bound)->MayMatch(RangesOf(batch))) << text;
    }
    ++checked;
    kept_some += !got.empty();
  }
  EXPECT_EQ(checked, 1500);
  EXPECT_GT(kept_some, 300);  // the generator produces selective and non-selective filters
}

}  // namespace
}  // namespace de::engine
