#include "engine/ops/clean_checks.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"
#include "engine/io/json.h"
#include "engine/ops/clean_cast.h"
#include "engine/ops/clean_keys.h"
#include "re2/re2.h"

namespace de::engine {

using Kind = CheckSpec::Kind;

std::string CheckSpec::Name() const {
  switch (kind) {
    case Kind::kNotNull: return absl::StrCat("not_null(", absl::StrJoin(columns, ", "), ")");
    case Kind::kUnique: return absl::StrCat("unique(", absl::StrJoin(columns, ", "), ")");
    case Kind::kAcceptedValues:
      return absl::StrCat("accepted_values(", absl::StrJoin(columns, ", "), ")");
    case Kind::kRange: return absl::StrCat("range(", absl::StrJoin(columns, ", "), ")");
    case Kind::kRegex: return absl::StrCat("regex(", absl::StrJoin(columns, ", "), ")");
    case Kind::kRowCount: return "row_count";
  }
  return "?";
}

// A bound check: column indices and parsed bounds, plus its failing-row counter.
struct CheckRunner::Bound {
  CheckSpec spec;
  std::vector<int> cols;
  Type type = Type::kString;
  std::atomic<int64_t> failing{0};
  // range bounds in the column's type
  bool has_min = false, has_max = false;
  int64_t imin = 0, imax = 0;
  double dmin = 0, dmax = 0;
  std::string smin, smax;
  absl::flat_hash_set<std::string> accepted;
  std::unique_ptr<RE2> re;
  KeySet keys;
};

namespace {

absl::Status ParseBound(CheckRunner::Bound* b, const std::string& text, bool is_min) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("checks: ", b->spec.Name(), ": ",
                                                   is_min ? "min" : "max", " '", text,
                                                   "' is not a ", TypeName(b->type)));
  };
  int64_t iv = 0;
  double dv = 0;
  switch (b->type) {
    case Type::kBool: case Type::kInt32: case Type::kInt64:
      if (ParseCsvInt64(text, &iv)) {
        (is_min ? b->imin : b->imax) = iv;
        (is_min ? b->dmin : b->dmax) = static_cast<double>(iv);
        break;
      }
      if (!ParseCsvDouble(text, &dv)) return bad();
      // A fractional bound on an integer column: compare as doubles.
      (is_min ? b->imin : b->imax) = static_cast<int64_t>(is_min ? std::ceil(dv) : std::floor(dv));
      break;
    case Type::kDouble: case Type::kDecimal:
      if (!ParseCsvDouble(text, &dv)) return bad();
      (is_min ? b->dmin : b->dmax) = dv;
      break;
    case Type::kDate: {
      int32_t d;
      if (!ParseCsvDate(text, &d)) return bad();
      (is_min ? b->imin : b->imax) = d;
      break;
    }
    case Type::kTimestamp:
      if (!ParseCsvTimestamp(text, &iv)) return bad();
      (is_min ? b->imin : b->imax) = iv;
      break;
    case Type::kString:
      (is_min ? b->smin : b->smax) = text;
      break;
  }
  (is_min ? b->has_min : b->has_max) = true;
  return absl::OkStatus();
}

inline int64_t IntValue(const Column& c, uint32_t r) {
  switch (c.type) {
    case Type::kBool: return c.u8[r];
    case Type::kInt32: case Type::kDate: return c.i32[r];
    default: return c.i64[r];
  }
}

int64_t CountRange(const CheckRunner::Bound& b, const Column& c, const Selection& sel) {
  int64_t bad = 0;
  for (size_t i = 0; i < sel.size(); ++i) {
    const uint32_t r = sel[i];
    if (!c.valid[r]) continue;
    bool out = false;
    if (c.type == Type::kDouble || c.type == Type::kDecimal) {
      double v = c.type == Type::kDouble ? c.f64[r]
                                         : static_cast<double>(c.i64[r]) / std::pow(10.0, c.scale);
      out = (b.has_min && v < b.dmin) || (b.has_max && v > b.dmax);
    } else if (c.type == Type::kString) {
      std::string_view v = c.str(r);
      out = (b.has_min && v < b.smin) || (b.has_max && v > b.smax);
    } else {
      int64_t v = IntValue(c, r);
      out = (b.has_min && v < b.imin) || (b.has_max && v > b.imax);
    }
    bad += out;
  }
  return bad;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckRunner>> CheckRunner::Create(std::vector<CheckSpec> specs,
                                                                 const Schema& schema) {
  std::unique_ptr<CheckRunner> runner(new CheckRunner());
  for (auto& spec : specs) {
    auto b = std::make_unique<Bound>();
    b->spec = std::move(spec);
    for (const auto& name : b->spec.columns) {
      int idx = -1;
      for (size_t i = 0; i < schema.size(); ++i) {
        if (schema[i].name == name) idx = static_cast<int>(i);
      }
      if (idx < 0) {
        std::vector<std::string> names;
        for (const auto& f : schema) names.push_back(f.name);
        return absl::InvalidArgumentError(absl::StrCat("checks: ", b->spec.Name(), ": no column '",
                                                       name, "' in the output (columns: ",
                                                       absl::StrJoin(names, ", "), ")"));
      }
      b->cols.push_back(idx);
    }
    if (!b->cols.empty()) b->type = schema[b->cols[0]].type;
    switch (b->spec.kind) {
      case Kind::kRange:
      case Kind::kRowCount:
        if (b->spec.kind == Kind::kRowCount) b->type = Type::kInt64;
        if (!b->spec.min && !b->spec.max) {
          return absl::InvalidArgumentError(absl::StrCat("checks: ", b->spec.Name(),
                                                         ": needs min or max (or both)"));
        }
        if (b->spec.min) DE_RETURN_IF_ERROR(ParseBound(b.get(), *b->spec.min, true));
        if (b->spec.max) DE_RETURN_IF_ERROR(ParseBound(b.get(), *b->spec.max, false));
        break;
      case Kind::kAcceptedValues:
        for (const auto& v : b->spec.values) b->accepted.insert(v);
        break;
      case Kind::kRegex: {
        RE2::Options opt;
        opt.set_log_errors(false);
        b->re = std::make_unique<RE2>(b->spec.pattern, opt);
        if (!b->re->ok()) {
          return absl::InvalidArgumentError(absl::StrCat("checks: ", b->spec.Name(), ": bad pattern '",
                                                         b->spec.pattern, "': ", b->re->error()));
        }
        break;
      }
      default: break;
    }
    runner->checks_.push_back(std::move(b));
  }
  return runner;
}

CheckRunner::~CheckRunner() = default;

void CheckRunner::Update(const Batch& batch, const Selection& sel) {
  std::vector<Key128> keys;
  std::vector<uint8_t> any_null;
  std::string text;
  for (auto& bp : checks_) {
    Bound& b = *bp;
    int64_t bad = 0;
    switch (b.spec.kind) {
      case Kind::kNotNull: {
        const Column& c = batch.columns[b.cols[0]];
        for (size_t i = 0; i < sel.size(); ++i) bad += !c.valid[sel[i]];
        break;
      }
      case Kind::kUnique:
        HashKeys(batch, b.cols, sel, &keys, &any_null);
        for (size_t i = 0; i < keys.size(); ++i) {
          if (!any_null[i] && !b.keys.Insert(keys[i])) ++bad;
        }
        break;
      case Kind::kAcceptedValues:
      case Kind::kRegex: {
        const Column& c = batch.columns[b.cols[0]];
        for (size_t i = 0; i < sel.size(); ++i) {
          const uint32_t r = sel[i];
          if (!c.valid[r]) continue;
          std::string_view v;
          if (c.type == Type::kString) {
            v = c.str(r);
          } else {
            text.clear();
            AppendValueText(c, r, &text);
            v = text;
          }
          bool ok = b.spec.kind == Kind::kRegex
                        ? RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *b.re)
                        : b.accepted.contains(absl::string_view(v.data(), v.size()));
          bad += !ok;
        }
        break;
      }
      case Kind::kRange:
        bad = CountRange(b, batch.columns[b.cols[0]], sel);
        break;
      case Kind::kRowCount:
        break;
    }
    if (bad) b.failing.fetch_add(bad, std::memory_order_relaxed);
  }
}

std::vector<CheckResult> CheckRunner::Finish(int64_t rows_out) const {
  std::vector<CheckResult> out;
  for (const auto& bp : checks_) {
    const Bound& b = *bp;
    CheckResult r;
    r.name = b.spec.Name();
    r.severity = b.spec.severity;
    if (b.spec.kind == Kind::kRowCount) {
      bool low = b.has_min && rows_out < b.imin;
      bool high = b.has_max && rows_out > b.imax;
      r.failing_rows = (low || high) ? 1 : 0;
      r.detail = absl::StrCat(rows_out, " rows written",
                              low ? absl::StrCat(", expected >= ", b.imin) : "",
                              high ? absl::StrCat(", expected <= ", b.imax) : "");
    } else {
      r.failing_rows = b.failing.load();
      r.detail = absl::StrCat(r.failing_rows, " failing row(s) of ", rows_out);
    }
    r.passed = r.failing_rows == 0;
    out.push_back(std::move(r));
  }
  return out;
}

std::string CheckResultsJson(const std::vector<CheckResult>& results) {
  std::string s = "[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (i) s += ",";
    absl::StrAppend(&s, "{\"check\":", JsonString(r.name), ",\"severity\":\"",
                    r.severity == Severity::kError ? "error" : "warn", "\",\"failing_rows\":",
                    r.failing_rows, ",\"passed\":", r.passed ? "true" : "false",
                    ",\"detail\":", JsonString(r.detail), "}");
  }
  s += "]";
  return s;
}

}  // namespace de::engine
