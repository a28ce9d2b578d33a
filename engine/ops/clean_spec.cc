// ParseCleanSpec: the `clean` options of a task's `with:` map.
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/ops/clean_kernels.h"

namespace de::engine {

namespace {

absl::Status Bad(const std::string& key, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", what));
}

// A string, or a list of strings.
absl::StatusOr<std::vector<std::string>> Names(const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& e : n) {
      if (!e.IsScalar()) return Bad(key, "expected a list of column names");
      out.push_back(e.Scalar());
    }
  } else if (!n.IsNull()) {
    return Bad(key, "expected a column name or a list of them");
  }
  return out;
}

absl::StatusOr<std::string> Text(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return Bad(key, "expected a value");
  return n.Scalar();
}

absl::StatusOr<Severity> ParseSeverity(const YAML::Node& n, const std::string& key) {
  DE_ASSIGN_OR_RETURN(std::string s, Text(n, key));
  if (s == "error") return Severity::kError;
  if (s == "warn" || s == "warning") return Severity::kWarn;
  return Bad(key, absl::StrCat("severity '", s, "' is not one of error, warn"));
}

// {column, values | min/max | pattern [, severity]}
absl::Status ParseColumnCheck(const YAML::Node& body, const std::string& key,
                              const std::set<std::string>& allowed, CheckSpec* c) {
  if (!body.IsMap()) return Bad(key, "expected a map {column: ..., ...}");
  for (const auto& kv : body) {
    std::string k = kv.first.as<std::string>();
    if (!allowed.count(k) && k != "severity") {
      return Bad(key, absl::StrCat("unknown key '", k, "' (expected ",
                                   absl::StrJoin(allowed, ", "), ", severity)"));
    }
  }
  if (allowed.count("column")) {
    if (!body["column"]) return Bad(key, "needs `column:`");
    DE_ASSIGN_OR_RETURN(std::string col, Text(body["column"], key + ".column"));
    c->columns.push_back(col);
  }
  if (body["values"]) {
    DE_ASSIGN_OR_RETURN(c->values, Names(body["values"], key + ".values"));
  } else if (allowed.count("values")) {
    return Bad(key, "needs `values:`");
  }
  if (body["min"]) {
    DE_ASSIGN_OR_RETURN(std::string v, Text(body["min"], key + ".min"));
    c->min = v;
  }
  if (body["max"]) {
    DE_ASSIGN_OR_RETURN(std::string v, Text(body["max"], key + ".max"));
    c->max = v;
  }
  if ((allowed.count("min") || allowed.count("max")) && !c->min && !c->max) {
    return Bad(key, "needs min or max (or both)");
  }
  if (allowed.count("pattern")) {
    if (!body["pattern"]) return Bad(key, "needs `pattern:`");
    DE_ASSIGN_OR_RETURN(c->pattern, Text(body["pattern"], key + ".pattern"));
  }
  if (body["severity"]) {
    DE_ASSIGN_OR_RETURN(c->severity, ParseSeverity(body["severity"], key));
  }
  return absl::OkStatus();
}

absl::Status ParseCheck(const YAML::Node& e, size_t index, std::vector<CheckSpec>* out) {
  const std::string where = absl::StrCat("checks[", index, "]");
  if (!e.IsMap()) {
    return Bad(where, "expected a map such as {not_null: [col]} or {range: {column, min, max}}");
  }
  std::optional<Severity> severity;
  if (e["severity"]) {
    DE_ASSIGN_OR_RETURN(severity, ParseSeverity(e["severity"], where));
  }
  std::vector<CheckSpec> made;
  for (const auto& kv : e) {
    std::string kind = kv.first.as<std::string>();
    if (kind == "severity") continue;
    const YAML::Node& body = kv.second;
    const std::string key = absl::StrCat(where, ".", kind);
    CheckSpec c;
    if (kind == "not_null") {
      DE_ASSIGN_OR_RETURN(auto cols, Names(body, key));
      if (cols.empty()) return Bad(key, "expected one or more columns");
      for (const auto& col : cols) {
        CheckSpec one;
        one.kind = CheckSpec::Kind::kNotNull;
        one.columns = {col};
        made.push_back(one);
      }
      continue;
    } else if (kind == "unique") {
      c.kind = CheckSpec::Kind::kUnique;
      if (body.IsMap()) {
        if (!body["columns"]) return Bad(key, "needs `columns:`");
        DE_ASSIGN_OR_RETURN(c.columns, Names(body["columns"], key));
        if (body["severity"]) {
          DE_ASSIGN_OR_RETURN(c.severity, ParseSeverity(body["severity"], key));
        }
      } else {
        DE_ASSIGN_OR_RETURN(c.columns, Names(body, key));
      }
      if (c.columns.empty()) return Bad(key, "expected one or more columns");
    } else if (kind == "accepted_values") {
      c.kind = CheckSpec::Kind::kAcceptedValues;
      DE_RETURN_IF_ERROR(ParseColumnCheck(body, key, {"column", "values"}, &c));
    } else if (kind == "range") {
      c.kind = CheckSpec::Kind::kRange;
      DE_RETURN_IF_ERROR(ParseColumnCheck(body, key, {"column", "min", "max"}, &c));
    } else if (kind == "regex") {
      c.kind = CheckSpec::Kind::kRegex;
      DE_RETURN_IF_ERROR(ParseColumnCheck(body, key, {"column", "pattern"}, &c));
    } else if (kind == "row_count") {
      c.kind = CheckSpec::Kind::kRowCount;
      DE_RETURN_IF_ERROR(ParseColumnCheck(body, key, {"min", "max"}, &c));
    } else {
      return Bad(where, absl::StrCat("unknown check '", kind, "' (not_null, unique, "
                                     "accepted_values, range, regex, row_count)"));
    }
    made.push_back(std::move(c));
  }
  if (made.empty()) return Bad(where, "names no check");
  for (auto& c : made) {
    if (severity) c.severity = *severity;
    out->push_back(std::move(c));
  }
  return absl::OkStatus();
}

absl::StatusOr<CleanSpec> ParseImpl(const YAML::Node& with) {
  CleanSpec s;
  if (with["select"]) {
    DE_ASSIGN_OR_RETURN(s.select, Names(with["select"], "select"));
  }
  if (with["drop"]) {
    DE_ASSIGN_OR_RETURN(s.drop, Names(with["drop"], "drop"));
  }
  if (const YAML::Node& n = with["rename"]) {
    if (!n.IsMap()) return Bad("rename", "expected a map {old_name: new_name}");
    for (const auto& kv : n) {
      std::string to = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (to.empty()) return Bad("rename", absl::StrCat("'", kv.first.as<std::string>(),
                                                        "': expected a new name"));
      s.rename.emplace_back(kv.first.as<std::string>(), to);
    }
  }
  if (const YAML::Node& n = with["cast"]) {
    if (!n.IsMap()) return Bad("cast", "expected a map {column: type}");
    for (const auto& kv : n) {
      std::string name = kv.first.as<std::string>();
      std::string tn = kv.second.IsScalar() ? kv.second.Scalar() : "";
      Type t;
      if (!ParseTypeName(tn, &t)) {
        return Bad("cast", absl::StrCat("column '", name, "': unknown type '", tn,
                                        "' (bool, int32, int64, double, date, timestamp, string)"));
      }
      s.cast.emplace_back(name, t);
    }
  }
  if (const YAML::Node& n = with["on_error"]) {
    // `on_error=null` on a command line parses as a YAML null.
    std::string e = n.IsNull() ? "null" : (n.IsScalar() ? n.Scalar() : "");
    if (!ParseOnError(e, &s.on_error)) {
      return Bad("on_error", absl::StrCat("'", e, "' is not one of reject, null, fail"));
    }
  }
  if (const YAML::Node& n = with["trim"]) {
    if (n.IsScalar()) {
      std::string l = absl::AsciiStrToLower(n.Scalar());
      if (l == "true" || l == "yes") s.trim_all = true;
      else if (l != "false" && l != "no") s.trim.push_back(n.Scalar());
    } else {
      DE_ASSIGN_OR_RETURN(s.trim, Names(n, "trim"));
    }
  }
  if (const YAML::Node& n = with["null_if"]) {
    if (n.IsSequence()) {
      for (const auto& e : n) {
        if (e.IsNull()) continue;
        if (!e.IsScalar()) return Bad("null_if", "expected a list of strings");
        s.null_if.push_back(e.Scalar());
      }
    } else if (n.IsScalar()) {
      s.null_if.push_back(n.Scalar());
    } else if (!n.IsNull()) {
      return Bad("null_if", "expected a list of strings");
    }
  }
  if (with["lower"]) {
    DE_ASSIGN_OR_RETURN(s.lower, Names(with["lower"], "lower"));
  }
  if (with["upper"]) {
    DE_ASSIGN_OR_RETURN(s.upper, Names(with["upper"], "upper"));
  }
  if (with["invalid_text"]) {
    DE_ASSIGN_OR_RETURN(std::string v, Text(with["invalid_text"], "invalid_text"));
    if (!ParseBadText(v, &s.invalid_text)) {
      return Bad("invalid_text", absl::StrCat("'", v, "' is not one of replace, reject"));
    }
  }
  if (with["filter"]) {
    DE_ASSIGN_OR_RETURN(s.filter, Text(with["filter"], "filter"));
  }
  if (const YAML::Node& n = with["dedupe"]) {
    DedupeSpec d;
    if (n.IsMap()) {
      for (const auto& kv : n) {
        std::string k = kv.first.as<std::string>();
        if (k != "keys" && k != "keep") {
          return Bad("dedupe", absl::StrCat("unknown key '", k, "' (expected keys, keep)"));
        }
      }
      if (!n["keys"]) return Bad("dedupe", "needs `keys:` (the columns that identify a row)");
      DE_ASSIGN_OR_RETURN(d.keys, Names(n["keys"], "dedupe.keys"));
      if (n["keep"]) {
        DE_ASSIGN_OR_RETURN(std::string keep, Text(n["keep"], "dedupe.keep"));
        if (keep == "last") d.keep_last = true;
        else if (keep != "first") {
          return Bad("dedupe.keep", absl::StrCat("'", keep, "' is not one of first, last"));
        }
      }
    } else {
      DE_ASSIGN_OR_RETURN(d.keys, Names(n, "dedupe"));
    }
    if (d.keys.empty()) return Bad("dedupe", "needs at least one key column");
    s.dedupe = d;
  }
  if (const YAML::Node& n = with["checks"]) {
    if (!n.IsSequence()) return Bad("checks", "expected a list such as [{not_null: [origin]}]");
    for (size_t i = 0; i < n.size(); ++i) DE_RETURN_IF_ERROR(ParseCheck(n[i], i, &s.checks));
  }
  return s;
}

}  // namespace

const std::vector<std::string>& CleanSpecKeys() {
  static const std::vector<std::string> kKeys = {
      "select", "drop", "rename", "cast", "on_error", "trim", "null_if", "lower", "upper",
      "invalid_text", "filter", "dedupe", "checks"};
  return kKeys;
}

absl::StatusOr<CleanSpec> ParseCleanSpec(const YAML::Node& with) {
  if (!with.IsMap()) return absl::InvalidArgumentError("clean: parameters must be a map");
  try {
    return ParseImpl(with);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("clean: bad parameters: ", e.what()));
  }
}

}  // namespace de::engine
