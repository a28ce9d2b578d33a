#include "common/dag/param_check.h"

#include <algorithm>
#include <climits>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/dag/expr_check.h"
#include "common/dag/loader.h"
#include "common/dag/param_values.h"
#include "common/dag/suggest.h"
#include "common/dag/task_params.h"

namespace de::dag {
namespace {

using K = ParamKind;

ParamSpec Field(std::string name, K kind, bool required = false) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = kind;
  p.required = required;
  return p;
}
ParamSpec EnumField(std::string name, std::vector<std::string> allowed, bool required = false) {
  ParamSpec p = Field(std::move(name), K::kEnum, required);
  p.allowed = std::move(allowed);
  return p;
}
ParamSpec StructField(std::string name, std::vector<ParamSpec> fields) {
  ParamSpec p = Field(std::move(name), K::kStruct);
  p.fields = std::move(fields);
  return p;
}

// The shapes of the composite kinds, declared like parameters.
const ParamSpec& InputStruct() {
  static const ParamSpec* k = new ParamSpec(
      StructField("input", {Field("path", K::kString, true), Field("from", K::kString),
                            Field("to", K::kString), Field("allow_missing", K::kBool)}));
  return *k;
}
const ParamSpec& GroupByStruct() {
  static const ParamSpec* k = new ParamSpec(
      StructField("group_by", {EnumField("bucket", {"hour", "day", "week", "month", "year"}, true),
                               Field("of", K::kString, true), Field("as", K::kString)}));
  return *k;
}
const ParamSpec& PartitionStruct() {
  static const ParamSpec* k = new ParamSpec(
      StructField("partition_by",
                  {Field("column", K::kString, true),
                   EnumField("granularity", {"day", "month", "value"}), Field("as", K::kString)}));
  return *k;
}
// One entry of `checks:`: one or more of the check names, plus an optional severity (for all of
// them, or inside a check's own mapping).
ParamSpec Severity() { return EnumField("severity", {"error", "warn", "warning"}); }
const ParamSpec& CheckStruct() {
  static const ParamSpec* k = [] {
    ParamSpec unique = Field("unique", K::kOneOf);
    unique.fields = {Field("", K::kColumns),
                     StructField("", {Field("columns", K::kColumns, true), Severity()})};
    return new ParamSpec(StructField(
        "check",
        {Field("not_null", K::kColumns), unique,
         StructField("accepted_values", {Field("column", K::kString, true),
                                         Field("values", K::kStrings, true), Severity()}),
         StructField("range", {Field("column", K::kString, true), Field("min", K::kString),
                               Field("max", K::kString), Severity()}),
         StructField("regex", {Field("column", K::kString, true),
                               Field("pattern", K::kString, true), Severity()}),
         StructField("row_count", {Field("min", K::kInt), Field("max", K::kInt), Severity()}),
         Severity()}));
  }();
  return *k;
}

std::string Quoted(const YAML::Node& n) {
  if (n.IsScalar()) return absl::StrCat("'", n.Scalar(), "'");
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "no value";
}

class Checker {
 public:
  Checker(const ParamCheckOptions& o, std::vector<ParamProblem>* out) : o_(o), out_(out) {}

  void Problem(const YAML::Node& n, std::string message, int expr_column = 0,
               std::string expr_text = "") {
    ParamProblem p;
    p.mark = n.IsDefined() ? n.Mark() : YAML::Mark::null_mark();
    p.message = std::move(message);
    p.expr_column = expr_column;
    p.expr_text = std::move(expr_text);
    out_->push_back(std::move(p));
  }

  // Keys of `map` against `fields`; then each declared field present; then required fields.
  void Struct(const YAML::Node& map, const std::vector<ParamSpec>& fields, const std::string& path,
              absl::string_view unknown_what, const YAML::Mark* missing_at = nullptr) {
    std::vector<std::string> names;
    for (const auto& f : fields) names.push_back(f.name);
    std::map<std::string, int> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        Problem(kv.first, absl::StrCat(path, "keys must be plain names"));
        continue;
      }
      const std::string& key = kv.first.Scalar();
      auto [it, fresh] = seen.emplace(key, kv.first.Mark().line + 1);
      if (!fresh) {
        Problem(kv.first,
                absl::StrCat("duplicate key '", path, key, "' (first at line ", it->second, ")"));
        continue;
      }
      auto f = std::find(names.begin(), names.end(), key);
      if (f == names.end()) {
        std::string hint = DidYouMean(key, names);
        if (hint.empty()) {
          hint = names.empty() ? " (it takes no parameters)"
                               : absl::StrCat("; known: ", absl::StrJoin(names, ", "));
        }
        Problem(kv.first, absl::StrCat("unknown ", unknown_what, " '", path, key, "'", hint));
        continue;
      }
      Value(kv.second, fields[f - names.begin()], absl::StrCat(path, key));
    }
    for (const auto& f : fields) {
      bool present = false;
      if (map.IsMap()) present = map[f.name].IsDefined();
      if (f.required && !present) {
        std::string what =
            path.empty() || path == o_.key_prefix
                ? absl::StrCat(o_.subject, " needs '", path, f.name, "'")
                : absl::StrCat(path.substr(0, path.size() - 1), " needs '", f.name, "'");
        if (missing_at != nullptr && !map.IsMap()) {
          ParamProblem p;
          p.mark = *missing_at;
          p.message = what;
          out_->push_back(std::move(p));
        } else {
          Problem(map, what);
        }
      }
    }
  }

  void Value(const YAML::Node& n, const ParamSpec& spec, const std::string& path) {
    if (n.IsNull()) {
      // `on_error: null` means the value "null" (NormalizeNullEnums), not "no value".
      if (std::find(spec.allowed.begin(), spec.allowed.end(), "null") != spec.allowed.end()) return;
      Problem(n, absl::StrCat(path, ": no value",
                              spec.required ? "" : " (remove the key to use the default)"));
      return;
    }
    if (n.IsScalar() && HasTemplate(n.Scalar())) return;  // checked after rendering
    switch (spec.kind) {
      case K::kString:
      case K::kInt:
      case K::kBool:
      case K::kSize:
      case K::kDuration:
      case K::kChar:
      case K::kEnum:
      case K::kTypeName:
      case K::kExpr:
        return ScalarValue(n, spec, path);
      case K::kColumns:
      case K::kStrings:
      case K::kList:
      case K::kMap:
        return CollectionValue(n, spec, path);
      default:
        return StructuredValue(n, spec, path);
    }
  }

  // Values that are one scalar: string, int, bool, size, duration, char, enum, type, expr.
  void ScalarValue(const YAML::Node& n, const ParamSpec& spec, const std::string& path) {
    switch (spec.kind) {
      case K::kString:
        Scalar(n, path, "a string");
        return;
      case K::kInt: {
        if (!Scalar(n, path, "an integer")) return;
        int64_t v = 0;
        if (!absl::SimpleAtoi(n.Scalar(), &v) || v < spec.min_int) {
          Problem(n, absl::StrCat(path, ": expected an integer >= ", spec.min_int, ", got ",
                                  Quoted(n)));
        }
        return;
      }
      case K::kBool: {
        bool b;
        if (!n.IsScalar() || !ParseBoolWord(n.Scalar(), &b)) {
          Problem(n, absl::StrCat(path, ": expected true or false, got ", Quoted(n)));
        }
        return;
      }
      case K::kSize:
        if (!Scalar(n, path, "a size like 192MB")) return;
        if (auto s = ParseByteSize(n.Scalar()); !s.ok()) {
          Problem(n, absl::StrCat(path, ": ", s.status().message()));
        }
        return;
      case K::kDuration:
        if (!Scalar(n, path, "a duration like 30s")) return;
        if (auto d = ParseDuration(n.Scalar()); !d.ok()) {
          Problem(n, absl::StrCat(path, ": ", d.status().message()));
        }
        return;
      case K::kChar: {
        if (!Scalar(n, path, "one character")) return;
        const std::string& s = n.Scalar();
        bool none_ok = !spec.allowed.empty();
        bool ok =
            s.size() == 1 || s == "\\t" || s == "tab" || (none_ok && (s.empty() || s == "none"));
        if (!ok || s == "\n" || s == "\r") {
          Problem(n, absl::StrCat(path, ": expected one character (or \\t)",
                                  none_ok ? " or none" : "", ", got ", Quoted(n)));
        }
        return;
      }
      case K::kEnum:
        OneOf(n, spec.allowed, path, "");
        return;
      case K::kTypeName:
        OneOf(n, ColumnTypeNames(), path, "unknown type ");
        return;
      case K::kExpr: {
        if (!Scalar(n, path, "an expression string")) return;
        int column = 0;
        std::string what =
            path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
        absl::Status s = CheckExpression(n.Scalar(), what, &column);
        if (!s.ok()) Problem(n, std::string(s.message()), column, n.Scalar());
        return;
      }
      default:
        return;
    }
  }

  // Lists of columns/strings, lists and maps of declared elements.
  void CollectionValue(const YAML::Node& n, const ParamSpec& spec, const std::string& path) {
    switch (spec.kind) {
      case K::kColumns:
      case K::kStrings: {
        const bool columns = spec.kind == K::kColumns;
        const char* want =
            columns ? "a column name or a list of column names" : "a string or a list of strings";
        if (n.IsMap()) {
          Problem(n, absl::StrCat(path, ": expected ", want, ", got a mapping"));
          return;
        }
        if (n.IsScalar()) {
          if (columns && n.Scalar().empty()) Problem(n, absl::StrCat(path, ": empty column name"));
          return;
        }
        for (size_t i = 0; i < n.size(); ++i) {
          const YAML::Node e = n[i];
          if (!e.IsScalar()) {
            Problem(e, absl::StrCat(path, "[", i, "]: expected ",
                                    columns ? "a column name" : "a string", ", got ", Quoted(e)));
          } else if (columns && e.Scalar().empty()) {
            Problem(e, absl::StrCat(path, "[", i, "]: empty column name"));
          }
        }
        return;
      }
      case K::kList:
        if (n.IsSequence()) {
          for (size_t i = 0; i < n.size(); ++i)
            Value(n[i], spec.fields[0], absl::StrCat(path, "[", i, "]"));
        } else {
          Value(n, spec.fields[0], path);  // one element
        }
        return;
      case K::kMap:
        if (n.IsSequence() && spec.pairs_list) {
          for (size_t i = 0; i < n.size(); ++i) {
            if (!n[i].IsMap() || n[i].size() != 1) {
              Problem(n[i], absl::StrCat(path, "[", i, "]: expected one {name: ",
                                         KindName(spec.fields[0]), "} pair"));
            } else {
              ParamSpec one = spec;
              one.pairs_list = false;
              Value(n[i], one, absl::StrCat(path, "[", i, "]"));
            }
          }
          return;
        }
        if (!n.IsMap()) {
          Problem(n, absl::StrCat(path, ": expected a mapping {name: ", KindName(spec.fields[0]),
                                  "}, got ", Quoted(n)));
          return;
        }
        for (const auto& kv : n) {
          if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
            Problem(kv.first, absl::StrCat(path, ": keys must be plain names"));
            continue;
          }
          Value(kv.second, spec.fields[0], absl::StrCat(path, ".", kv.first.Scalar()));
        }
        return;
      default:
        return;
    }
  }

  // Declared structures, inputs, group_by/partition_by entries, metrics, checks, commands.
  void StructuredValue(const YAML::Node& n, const ParamSpec& spec, const std::string& path) {
    switch (spec.kind) {
      case K::kStruct:
        if (n.IsScalar() && !spec.shorthand.empty()) {
          for (const auto& f : spec.fields)
            if (f.name == spec.shorthand) Value(n, f, absl::StrCat(path, ".", f.name));
          return;
        }
        if (n.IsSequence() && !spec.shorthand.empty()) {
          for (const auto& f : spec.fields)
            if (f.name == spec.shorthand) Value(n, f, absl::StrCat(path, ".", f.name));
          return;
        }
        if (!n.IsMap()) {
          Problem(n,
                  absl::StrCat(path, ": expected a mapping ", KindName(spec), ", got ", Quoted(n)));
          return;
        }
        Struct(n, spec.fields, absl::StrCat(path, "."), "key");
        return;
      case K::kInput:
        if (n.IsScalar()) return;
        if (!n.IsMap()) {
          Problem(n,
                  absl::StrCat(path, ": expected a path or {path, from, to, allow_missing}, got ",
                               Quoted(n)));
          return;
        }
        Struct(n, InputStruct().fields, absl::StrCat(path, "."), "key");
        return;
      case K::kGroupBy:
      case K::kPartition: {
        const ParamSpec& shape = spec.kind == K::kGroupBy ? GroupByStruct() : PartitionStruct();
        if (n.IsScalar()) {
          if (n.Scalar().empty()) Problem(n, absl::StrCat(path, ": empty column name"));
          return;
        }
        if (!n.IsMap()) {
          Problem(n, absl::StrCat(path, ": expected a column name or ", KindName(shape), ", got ",
                                  Quoted(n)));
          return;
        }
        Struct(n, shape.fields, absl::StrCat(path, "."), "key");
        return;
      }
      case K::kMetric:
        Metric(n, path);
        return;
      case K::kCheck:
        Check(n, path);
        return;
      case K::kCommand:
        if (n.IsScalar()) {
          if (n.Scalar().empty()) Problem(n, absl::StrCat(path, ": must not be empty"));
          return;
        }
        if (!n.IsSequence() || n.size() == 0) {
          Problem(n, absl::StrCat(path, " must be a string or a non-empty list of strings"));
          return;
        }
        for (size_t i = 0; i < n.size(); ++i) {
          if (!n[i].IsScalar()) {
            Problem(n[i], absl::StrCat(path, " must be a string or a non-empty list of strings"));
            return;
          }
        }
        return;
      case K::kOneOf: {
        for (const auto& alt : spec.fields) {
          std::vector<ParamProblem> trial;
          Checker(o_, &trial).Value(n, alt, path);
          if (trial.empty()) return;
        }
        Problem(n, absl::StrCat(path, ": expected ", KindName(spec), ", got ", Quoted(n)));
        return;
      }
      default:
        return;
    }
  }

 private:
  bool Scalar(const YAML::Node& n, const std::string& path, absl::string_view want) {
    if (n.IsScalar()) return true;
    Problem(n, absl::StrCat(path, ": expected ", want, ", got ", Quoted(n)));
    return false;
  }

  void OneOf(const YAML::Node& n, const std::vector<std::string>& allowed, const std::string& path,
             absl::string_view prefix) {
    if (n.IsScalar() && std::find(allowed.begin(), allowed.end(), n.Scalar()) != allowed.end()) {
      return;
    }
    std::string got = n.IsScalar() ? absl::StrCat(prefix, "'", n.Scalar(), "'") : Quoted(n);
    Problem(n, absl::StrCat(path, ": ", got, " is not one of ", absl::StrJoin(allowed, ", "),
                            n.IsScalar() ? DidYouMean(n.Scalar(), allowed) : ""));
  }

  // "count(*)", "sum(col)", "quantile(col, 0.95)".
  void Metric(const YAML::Node& n, const std::string& path) {
    if (!Scalar(n, path, "a metric like count(*) or sum(col)")) return;
    absl::string_view text = absl::StripAsciiWhitespace(n.Scalar());
    size_t open = text.find('(');
    auto bad = [&](std::string why) {
      Problem(n, absl::StrCat(path, ": '", n.Scalar(), "': ", why));
    };
    if (open == absl::string_view::npos || text.back() != ')') {
      return bad("expected function(column), e.g. count(*), sum(distance), quantile(delay, 0.95)");
    }
    std::string fn = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(0, open)));
    std::vector<std::string> args;
    absl::string_view inside = text.substr(open + 1, text.size() - open - 2);
    for (absl::string_view a : absl::StrSplit(inside, ',')) {
      args.emplace_back(absl::StripAsciiWhitespace(a));
    }
    if (args.size() == 1 && args[0].empty()) args.clear();
    const auto& fns = MetricFunctions();
    if (std::find(fns.begin(), fns.end(), fn) == fns.end()) {
      return bad(absl::StrCat("unknown function '", fn, "'", DidYouMean(fn, fns),
                              "; known: ", absl::StrJoin(fns, ", ")));
    }
    if (fn == "quantile" || fn == "quantile_disc" || fn == "quantile_cont") {
      double q = -1;
      if (args.size() != 2 || args[0].empty() || args[0] == "*" || !absl::SimpleAtod(args[1], &q) ||
          q < 0 || q > 1) {
        return bad(absl::StrCat(fn, " takes a column and a fraction in [0, 1], e.g. ", fn,
                                "(delay, 0.95)"));
      }
      return;
    }
    if (args.size() != 1 || args[0].empty()) {
      return bad(absl::StrCat(fn, " takes one column", fn == "count" ? " or *" : ""));
    }
    if (args[0] == "*" && fn != "count")
      return bad(absl::StrCat(fn, "(*) is not defined; name a column"));
  }

  void Check(const YAML::Node& n, const std::string& path) {
    const ParamSpec& shape = CheckStruct();
    std::vector<std::string> kinds;
    for (const auto& f : shape.fields)
      if (f.name != "severity") kinds.push_back(f.name);
    if (!n.IsMap()) {
      Problem(n, absl::StrCat(path, ": expected a mapping with one of ", absl::StrJoin(kinds, ", "),
                              " (and optionally severity: error|warn), got ", Quoted(n)));
      return;
    }
    size_t start = out_->size();
    Struct(n, shape.fields, absl::StrCat(path, "."), "check key");
    int count = 0;
    for (const auto& k : kinds) count += n[k] ? 1 : 0;
    if (count == 0 && out_->size() == start) {
      Problem(n, absl::StrCat(path, ": a check names one of ", absl::StrJoin(kinds, ", ")));
    }
  }

  const ParamCheckOptions& o_;
  std::vector<ParamProblem>* out_;
};

}  // namespace

bool HasTemplate(std::string_view text) { return text.find("{{") != std::string_view::npos; }

std::vector<ParamProblem> CheckTaskParams(std::string_view type, const YAML::Node& with,
                                          const ParamCheckOptions& options,
                                          const YAML::Mark& where) {
  std::vector<ParamProblem> out;
  const TaskParams* decl = FindTaskParams(type);
  if (decl == nullptr) return out;
  Checker c(options, &out);
  if (with.IsDefined() && !with.IsNull() && !with.IsMap()) {
    c.Problem(with, absl::StrCat(options.key_prefix.empty() ? "parameters" : "with",
                                 " must be a mapping"));
    return out;
  }
  YAML::Node map = with.IsDefined() && !with.IsNull() ? with : YAML::Node();
  std::string what = absl::StrCat(std::string(type), " parameter");
  c.Struct(map, decl->params, options.key_prefix, what, &where);
  return out;
}

void NormalizeNullEnums(std::string_view type, YAML::Node* with) {
  const TaskParams* decl = FindTaskParams(type);
  if (decl == nullptr || !with->IsMap()) return;
  for (const auto& p : decl->params) {
    if (std::find(p.allowed.begin(), p.allowed.end(), "null") == p.allowed.end()) continue;
    const YAML::Node& w = *with;
    YAML::Node v = w[p.name];
    if (v.IsDefined() && v.IsNull()) (*with)[p.name] = "null";
  }
}

absl::Status ProblemsToStatus(const std::vector<ParamProblem>& problems) {
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& p : problems) lines.push_back(p.message);
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

bool ParseBoolWord(std::string_view s, bool* out) {
  std::string l = absl::AsciiStrToLower(absl::string_view(s.data(), s.size()));
  if (l == "true" || l == "yes" || l == "on") return *out = true, true;
  if (l == "false" || l == "no" || l == "off") return *out = false, true;
  return false;
}

}  // namespace de::dag
