#include "engine/ops/aggregate_function.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/ops/aggregate_states.h"

namespace de::engine {

namespace {

bool IsNumber(Type t) {
  return t == Type::kInt32 || t == Type::kInt64 || t == Type::kDouble || t == Type::kDecimal;
}

absl::StatusOr<Type> Int64Result(Type) { return Type::kInt64; }
absl::StatusOr<Type> SameType(Type t) { return t; }
absl::StatusOr<Type> SumResult(Type t) {
  if (t == Type::kInt32 || t == Type::kInt64) return Type::kInt64;
  if (t == Type::kDouble || t == Type::kDecimal) return t;
  return absl::InvalidArgumentError(
      absl::StrCat("sum needs an int32, int64, decimal or double column, not ", TypeName(t)));
}
absl::StatusOr<Type> AvgResult(Type t) {
  if (IsNumber(t)) return Type::kDouble;
  return absl::InvalidArgumentError(
      absl::StrCat("avg needs an int32, int64, decimal or double column, not ", TypeName(t)));
}
absl::StatusOr<Type> QuantileDiscResult(Type t) {
  if (IsNumber(t) || t == Type::kDate || t == Type::kTimestamp) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      "quantile needs a number, date or timestamp column, not ", TypeName(t)));
}
absl::StatusOr<Type> QuantileContResult(Type t) {
  if (IsNumber(t) && t != Type::kDecimal) return Type::kDouble;
  return absl::InvalidArgumentError(absl::StrCat(
      "quantile_cont and median need an int32, int64 or double column, not ", TypeName(t)));
}

using Args = AggregateFunction::Args;

// (Debian's absl::string_view is not std::string_view.)
std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
std::string Str(std::string_view s) { return std::string(s); }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (absl::ascii_tolower(a[i - 1]) != absl::ascii_tolower(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Unquote(std::string_view s) {
  s = Strip(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '"' && i + 2 < s.size() && s[i + 1] == '"') ++i;
      out.push_back(s[i]);
    }
    return out;
  }
  return std::string(s);
}

}  // namespace

const std::vector<AggregateFunction>& AggregateFunctions() {
  static const std::vector<AggregateFunction> kFunctions = {
      {"count", Args::kColumn, Int64Result, agg::MakeCount},  // count(*) handled in Bind
      {"sum", Args::kColumn, SumResult, agg::MakeSum},
      {"min", Args::kColumn, SameType, agg::MakeMin},
      {"max", Args::kColumn, SameType, agg::MakeMax},
      {"avg", Args::kColumn, AvgResult, agg::MakeAvg},
      {"count_distinct", Args::kColumn, Int64Result, agg::MakeCountDistinct},
      {"quantile", Args::kColumnFraction, QuantileDiscResult, agg::MakeQuantileDisc},
      {"quantile_disc", Args::kColumnFraction, QuantileDiscResult, agg::MakeQuantileDisc},
      {"quantile_cont", Args::kColumnFraction, QuantileContResult, agg::MakeQuantileCont},
      {"median", Args::kColumn, QuantileContResult, agg::MakeQuantileCont, 0.5},
  };
  return kFunctions;
}

const AggregateFunction* FindAggregateFunction(std::string_view name) {
  static const AggregateFunction kCountStar = {"count", Args::kStar, Int64Result,
                                               agg::MakeCountStar};
  if (name == "count(*)") return &kCountStar;
  for (const auto& f : AggregateFunctions()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string ClosestName(std::string_view s, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = 3;
  for (const auto& n : names) {
    size_t d = EditDistance(s, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

absl::StatusOr<AggregateCall> ParseAggregateCall(std::string_view text) {
  AggregateCall call;
  std::string_view t = Strip(text);
  call.text = std::string(t);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", Str(t), "': ", Str(why), " (expected a call such as count(*), sum(col), quantile(col, 0.95))"));
  };
  size_t open = t.find('(');
  if (open == std::string_view::npos || t.back() != ')') return bad("not a function call");
  call.function = absl::AsciiStrToLower(Str(Strip(t.substr(0, open))));
  if (call.function.empty()) return bad("no function name");
  std::string_view inside = t.substr(open + 1, t.size() - open - 2);
  // Split on the last top-level comma outside double quotes.
  size_t comma = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 0; i < inside.size(); ++i) {
    if (inside[i] == '"') quoted = !quoted;
    else if (inside[i] == ',' && !quoted) comma = i;
  }
  std::string_view arg = inside.substr(0, comma);
  if (comma != std::string_view::npos) {
    std::string_view q = Strip(inside.substr(comma + 1));
    double v;
    auto r = std::from_chars(q.data(), q.data() + q.size(), v);
    if (q.empty() || r.ec != std::errc() || r.ptr != q.data() + q.size()) {
      return bad(absl::StrCat("'", Str(q), "' is not a number"));
    }
    call.fraction = v;
  }
  std::string col = Unquote(arg);
  if (col == "*" && Strip(arg) == "*") {
    call.star = true;
  } else {
    if (col.empty()) return bad("no column");
    call.column = col;
  }
  return call;
}

absl::StatusOr<BoundAggregate> BindAggregate(const std::string& name, const AggregateCall& call,
                                             const Schema& schema) {
  auto err = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: '", name, "': ", call.text, ": ", Str(why)));
  };
  const bool count_star = call.function == "count" && call.star;
  const AggregateFunction* fn = FindAggregateFunction(count_star ? "count(*)" : call.function);
  if (fn == nullptr) {
    std::vector<std::string> names;
    for (const auto& f : AggregateFunctions()) names.push_back(f.name);
    std::string near = ClosestName(call.function, names);
    return err(absl::StrCat("unknown function '", call.function, "'",
                            near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"),
                            "; known: ", absl::StrJoin(names, ", ")));
  }
  BoundAggregate b;
  b.name = name;
  b.label = call.text;
  b.function = fn;
  if (call.star && !count_star) return err(absl::StrCat(fn->name, "(*) is not allowed; name a column"));
  if (fn->args == Args::kColumnFraction) {
    if (!call.fraction) return err(absl::StrCat(fn->name, " needs a fraction: ", fn->name, "(col, 0.95)"));
    if (!(*call.fraction >= 0 && *call.fraction <= 1)) {
      return err(absl::StrCat("the fraction must be between 0 and 1, got ", *call.fraction));
    }
    b.fraction = *call.fraction;
  } else if (call.fraction) {
    return err(absl::StrCat(fn->name, " takes one argument"));
  }
  if (fn->fixed_fraction) b.fraction = *fn->fixed_fraction;
  if (fn->args == Args::kStar) {
    b.result_type = Type::kInt64;
    return b;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < schema.size(); ++i) {
    names.push_back(schema[i].name);
    if (schema[i].name == call.column) b.input = static_cast<int>(i);
  }
  if (b.input < 0) {
    std::string near = ClosestName(call.column, names);
    return err(absl::StrCat("no column '", call.column, "'",
                            near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"),
                            "; columns: ", absl::StrJoin(names, ", ")));
  }
  b.input_type = schema[b.input].type;
  b.input_scale = schema[b.input].scale;
  if (b.input_type == Type::kDecimal) {
    b.result_precision = call.function == "sum" ? kMaxDecimalPrecision : schema[b.input].precision;
    b.result_scale = schema[b.input].scale;
  }
  auto rt = fn->result_type(b.input_type);
  if (!rt.ok()) return err(Str(std::string(rt.status().message())));
  b.result_type = *rt;
  return b;
}

}  // namespace de::engine
