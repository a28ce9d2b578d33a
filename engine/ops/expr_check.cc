// Schema-free checks of a parsed expression (submit time), literal parsing helpers and names.
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/ops/expr.h"
#include "engine/ops/expr_ast.h"

namespace de::engine {
namespace {

using Kind = ExprLiteral::Kind;
using KindOr = absl::StatusOr<std::optional<Kind>>;  // nullopt: depends on a column

bool IsNumeric(Kind k) { return k == Kind::kInt || k == Kind::kDouble; }
bool IsTime(Kind k) { return k == Kind::kDate || k == Kind::kTimestamp; }

// Whether literals of kinds a and b may be compared (null compares with anything).
bool Comparable(Kind a, Kind b) {
  if (a == Kind::kNull || b == Kind::kNull) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  if (IsTime(a) && IsTime(b)) return true;
  if ((IsTime(a) && b == Kind::kString) || (IsTime(b) && a == Kind::kString)) return true;
  return a == b;
}

// A string literal compared with a date/timestamp must parse as one.
absl::Status CheckTimeString(const Expr& lit, Kind other, std::string_view what) {
  if (lit.op != ExprOp::kLiteral || lit.lit.kind != Kind::kString || !IsTime(other)) {
    return absl::OkStatus();
  }
  int64_t v;
  bool ok = other == Kind::kDate ? ParseExprDate(lit.lit.s, &v) : ParseExprTimestamp(lit.lit.s, &v);
  if (ok) return absl::OkStatus();
  return ExprErrorAt(what, lit.column,
                     absl::StrCat("'", lit.lit.s, "' is not a ", LiteralKindName(other),
                                  other == Kind::kDate ? " (YYYY-MM-DD)" : " (YYYY-MM-DD HH:MM:SS)"));
}

absl::Status Incomparable(const Expr& e, Kind a, Kind b, std::string_view what) {
  return ExprErrorQuiet(what, e.column,
                        absl::StrCat("'", e.text(), "' compares ", LiteralKindName(a), " with ",
                                     LiteralKindName(b)));
}

class Checker {
 public:
  explicit Checker(std::string_view what) : what_(what) {}

  KindOr Check(const Expr& e) {
    switch (e.op) {
      case ExprOp::kLiteral: return std::optional<Kind>(e.lit.kind);
      case ExprOp::kColumn: return std::optional<Kind>();
      case ExprOp::kNot:
      case ExprOp::kAnd:
      case ExprOp::kOr: return Logic(e);
      case ExprOp::kNeg: {
        KindOr k = Check(*e.args[0]);
        if (!k.ok() || !k->has_value()) return k;
        if (!IsNumeric(**k) && **k != Kind::kNull) return NotNumber(e, *e.args[0], **k);
        return k;
      }
      case ExprOp::kIsNull: {
        KindOr k = Check(*e.args[0]);
        if (!k.ok()) return k;
        return std::optional<Kind>(Kind::kBool);
      }
      case ExprOp::kLike: {
        KindOr k = Check(*e.args[0]);
        if (!k.ok()) return k;
        if (k->has_value() && **k != Kind::kString && **k != Kind::kNull) {
          return ExprErrorQuiet(what_, e.column,
                                absl::StrCat("'", e.text(), "': like needs a string, '",
                                             e.args[0]->text(), "' is ", LiteralKindName(**k)));
        }
        return std::optional<Kind>(Kind::kBool);
      }
      case ExprOp::kIn:
      case ExprOp::kBetween: return Compare(e);
      default:
        if (IsComparison(e.op)) return Compare(e);
        return Arithmetic(e);
    }
  }

 private:
  KindOr Logic(const Expr& e) {
    for (const auto& a : e.args) {
      KindOr k = Check(*a);
      if (!k.ok()) return k;
      if (k->has_value() && **k != Kind::kBool && **k != Kind::kNull) {
        return ExprErrorQuiet(what_, a->column,
                              absl::StrCat("'", e.text(), "': ", ExprOpSymbol(e.op),
                                           " needs conditions, '", a->text(), "' is ",
                                           LiteralKindName(**k)));
      }
    }
    return std::optional<Kind>(Kind::kBool);
  }

  absl::Status NotNumber(const Expr& e, const Expr& operand, Kind k) {
    return ExprErrorQuiet(what_, e.column,
                          absl::StrCat("'", e.text(), "' is arithmetic on ", LiteralKindName(k),
                                       " ('", operand.text(), "')"));
  }

  KindOr Arithmetic(const Expr& e) {
    std::optional<Kind> kinds[2];
    for (int i = 0; i < 2; ++i) {
      KindOr k = Check(*e.args[i]);
      if (!k.ok()) return k;
      kinds[i] = *k;
      if (kinds[i].has_value() && !IsNumeric(*kinds[i]) && *kinds[i] != Kind::kNull) {
        return NotNumber(e, *e.args[i], *kinds[i]);
      }
    }
    if (!kinds[0].has_value() || !kinds[1].has_value()) return std::optional<Kind>();
    if (*kinds[0] == Kind::kNull || *kinds[1] == Kind::kNull) return std::optional<Kind>(Kind::kNull);
    if (e.op == ExprOp::kDiv || *kinds[0] == Kind::kDouble || *kinds[1] == Kind::kDouble) {
      return std::optional<Kind>(Kind::kDouble);
    }
    return std::optional<Kind>(Kind::kInt);
  }

  // Comparisons, in (...) and between: every pair of known operands must be comparable.
  KindOr Compare(const Expr& e) {
    std::vector<std::optional<Kind>> kinds;
    for (const auto& a : e.args) {
      KindOr k = Check(*a);
      if (!k.ok()) return k;
      kinds.push_back(*k);
    }
    // The left operand against each other one; for in (...), also the values among themselves.
    for (size_t i = 0; i < kinds.size(); ++i) {
      for (size_t j = i + 1; j < kinds.size(); ++j) {
        if (e.op != ExprOp::kIn && i != 0) continue;
        if (!kinds[i].has_value() || !kinds[j].has_value()) continue;
        if (!Comparable(*kinds[i], *kinds[j])) return Incomparable(e, *kinds[i], *kinds[j], what_);
        absl::Status st = CheckTimeString(*e.args[i], *kinds[j], what_);
        if (st.ok()) st = CheckTimeString(*e.args[j], *kinds[i], what_);
        if (!st.ok()) return st;
      }
    }
    return std::optional<Kind>(Kind::kBool);
  }

  std::string_view what_;
};

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

const char* LiteralKindName(ExprLiteral::Kind k) {
  switch (k) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kDate: return "date";
    case Kind::kTimestamp: return "timestamp";
  }
  return "?";
}

const char* ExprOpSymbol(ExprOp op) {
  switch (op) {
    case ExprOp::kLiteral: return "literal";
    case ExprOp::kColumn: return "column";
    case ExprOp::kNot: return "not";
    case ExprOp::kNeg: return "-";
    case ExprOp::kAnd: return "and";
    case ExprOp::kOr: return "or";
    case ExprOp::kEq: return "=";
    case ExprOp::kNe: return "!=";
    case ExprOp::kLt: return "<";
    case ExprOp::kLe: return "<=";
    case ExprOp::kGt: return ">";
    case ExprOp::kGe: return ">=";
    case ExprOp::kAdd: return "+";
    case ExprOp::kSub: return "-";
    case ExprOp::kMul: return "*";
    case ExprOp::kDiv: return "/";
    case ExprOp::kMod: return "%";
    case ExprOp::kIsNull: return "is null";
    case ExprOp::kIn: return "in";
    case ExprOp::kLike: return "like";
    case ExprOp::kBetween: return "between";
  }
  return "?";
}

bool ParseExprDate(std::string_view s, int64_t* days) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max_day = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > max_day) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

bool ParseExprTimestamp(std::string_view s, int64_t* micros) {
  int64_t days;
  if (s.size() < 10 || !ParseExprDate(s.substr(0, 10), &days)) return false;
  int64_t secs = 0, frac = 0;
  if (s.size() > 10) {
    int hh, mm, ss = 0;
    if ((s[10] != ' ' && s[10] != 'T') || !Digits(s, 11, 2, &hh) || s.size() < 16 ||
        s[13] != ':' || !Digits(s, 14, 2, &mm)) {
      return false;
    }
    size_t pos = 16;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, 17, 2, &ss)) return false;
      pos = 19;
    }
    if (pos < s.size() && s[pos] == '.') {
      size_t n = 0;
      for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++n) {
        if (n < 6) frac = frac * 10 + (s[pos] - '0');
      }
      if (n == 0) return false;
      for (; n < 6; ++n) frac *= 10;
    }
    if (pos != s.size() || hh > 23 || mm > 59 || ss > 59) return false;
    secs = hh * 3600 + mm * 60 + ss;
  }
  *micros = (days * 86400 + secs) * 1000000 + frac;
  return true;
}

absl::Status CheckExprWithoutSchema(const Expr& e, std::string_view what) {
  Checker checker(what);
  KindOr k = checker.Check(e);
  if (!k.ok()) return k.status();
  if (k->has_value() && **k != Kind::kBool && **k != Kind::kNull) {
    return ExprErrorQuiet(what, e.column,
                          absl::StrCat("'", e.text(), "' is ", LiteralKindName(**k),
                                       ", not a condition"));
  }
  return absl::OkStatus();
}

}  // namespace de::engine
