#include "common/dag/dag_params.h"

#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/dag/param_check.h"
#include "common/dag/suggest.h"

namespace de::dag {
namespace {

constexpr const char* kDeclKeys[] = {"type", "default", "description"};

bool ParseType(const std::string& s, ParamType* t) {
  static const std::pair<const char*, ParamType> kTypes[] = {{"string", ParamType::kString},
                                                             {"int", ParamType::kInt},
                                                             {"float", ParamType::kFloat},
                                                             {"bool", ParamType::kBool},
                                                             {"date", ParamType::kDate},
                                                             {"list", ParamType::kList}};
  for (const auto& [name, type] : kTypes) {
    if (s == name) {
      *t = type;
      return true;
    }
  }
  return false;
}

// "an int", "a string".
std::string WithArticle(ParamType t) {
  return absl::StrCat(t == ParamType::kInt ? "an " : "a ", ParamTypeName(t));
}

Location ToLocation(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return {};
  return Location{m.line + 1, m.column + 1};
}

// A list param's default written as a YAML list: scalars without ',' (the separator).
void ReadListDefault(const std::string& name, const YAML::Node& d, ParamDecl* decl,
                     std::vector<DagParamProblem>* out) {
  std::vector<std::string> items;
  for (const auto& item : d) {
    if (!item.IsScalar() || item.Scalar().find(',') != std::string::npos) {
      out->push_back({item, absl::StrCat("params.", name, ".default: list items must be "
                                         "scalars without ','")});
      return;
    }
    std::string v(absl::StripAsciiWhitespace(item.Scalar()));
    if (!v.empty()) items.push_back(std::move(v));
  }
  decl->default_value = absl::StrJoin(items, ",");
}

// The long form {type, default, description}.
void ReadLongForm(const std::string& name, const YAML::Node& v, ParamDecl* decl,
                  std::vector<DagParamProblem>* out) {
  for (const auto& kv : v) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(std::begin(kDeclKeys), std::end(kDeclKeys), key) == std::end(kDeclKeys)) {
      out->push_back({kv.first, absl::StrCat("params.", name, ": unknown key '", key,
                                             "' (expected type, default, description)")});
    }
  }
  if (YAML::Node t = v["type"]; t && !t.IsNull()) {
    if (!t.IsScalar() || !ParseType(t.Scalar(), &decl->type)) {
      out->push_back({t, absl::StrCat("params.", name, ".type must be string, int, float, bool, "
                                      "date or list", t.IsScalar() ? absl::StrCat(", not '", t.Scalar(), "'") : "")});
      return;
    }
  }
  if (YAML::Node d = v["description"]; d && d.IsScalar()) decl->description = d.Scalar();
  YAML::Node d = v["default"];
  if (!d) {
    decl->has_default = false;
    return;
  }
  if (d.IsNull()) {
    decl->default_value.clear();
    if (decl->type != ParamType::kString) {
      out->push_back({d, absl::StrCat("params.", name, ".default must be ", WithArticle(decl->type))});
    }
    return;
  }
  if (decl->type == ParamType::kList && d.IsSequence()) {
    ReadListDefault(name, d, decl, out);
    return;
  }
  if (!d.IsScalar()) {
    out->push_back({d, absl::StrCat("params.", name, ".default must be a scalar",
                                    decl->type == ParamType::kList ? " or a list" : "")});
    return;
  }
  auto norm = NormalizeParamValue(decl->type, d.Scalar());
  if (!norm.ok()) {
    out->push_back({d, absl::StrCat("params.", name, ".default: ", norm.status().message())});
    return;
  }
  decl->default_value = *norm;
}

}  // namespace

const char* ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kDate: return "date";
    case ParamType::kList: return "list";
  }
  return "string";
}

std::string ParamEnvName(std::string_view name) {
  std::string out = "DE_PARAM_";
  for (char c : name) {
    char u = absl::ascii_toupper(static_cast<unsigned char>(c));
    out += (absl::ascii_isalnum(static_cast<unsigned char>(u)) || u == '_') ? u : '_';
  }
  return out;
}

absl::StatusOr<std::string> NormalizeParamValue(ParamType type, std::string_view value_in) {
  const std::string value(value_in);
  const std::string v(absl::StripAsciiWhitespace(value));
  auto bad = [&](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not ", what));
  };
  switch (type) {
    case ParamType::kString:
      return value;
    case ParamType::kInt: {
      int64_t n = 0;
      if (!absl::SimpleAtoi(v, &n)) return bad("an int");
      return absl::StrCat(n);
    }
    case ParamType::kFloat: {
      double d = 0;
      if (!absl::SimpleAtod(v, &d) || !std::isfinite(d)) return bad("a float");
      return v;
    }
    case ParamType::kBool: {
      bool b = v == "1";  // 1 and 0 too, as scripts write them
      if (v != "1" && v != "0" && !ParseBoolWord(v, &b)) return bad("a bool (true or false)");
      return std::string(b ? "true" : "false");
    }
    case ParamType::kDate: {
      absl::Time t;
      std::string err;
      if (v.size() != 10 || !absl::ParseTime("%Y-%m-%d", v, absl::UTCTimeZone(), &t, &err) ||
          absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()) != v) {
        return bad("a date (YYYY-MM-DD)");
      }
      return v;
    }
    case ParamType::kList:
      return absl::StrJoin(SplitListParam(value), ",");
  }
  return value;
}

std::vector<std::string> SplitListParam(std::string_view value) {
  std::vector<std::string> items;
  for (absl::string_view part : absl::StrSplit(absl::string_view(value.data(), value.size()), ',')) {
    absl::string_view v = absl::StripAsciiWhitespace(part);
    if (!v.empty()) items.emplace_back(v);
  }
  return items;
}

std::vector<DagParamProblem> ReadDagParams(const YAML::Node& params, bool scheduled, DagSpec* dag,
                                        std::set<std::string>* names) {
  std::vector<DagParamProblem> out;
  try {
    if (!params.IsMap()) {
      out.push_back({params, "params must be a mapping of name: value"});
      return out;
    }
    std::map<std::string, std::string> env_names;  // DE_PARAM_<NAME> -> the param it is
    for (const auto& kv : params) {
      if (!kv.first.IsScalar()) {
        out.push_back({kv.first, "params names must be plain names"});
        continue;
      }
      const std::string& name = kv.first.Scalar();
      names->insert(name);
      auto [env, fresh] = env_names.emplace(ParamEnvName(name), name);
      if (!fresh) {
        out.push_back(
            {kv.first, absl::StrCat("params.", name, " and params.", env->second,
                                    " both reach tasks as ", env->first, ": rename one")});
      }
      ParamDecl decl;
      decl.loc = ToLocation(kv.first);
      const YAML::Node& v = kv.second;
      if (v.IsNull()) {
        decl.default_value = "";
      } else if (v.IsScalar()) {
        decl.default_value = v.Scalar();
      } else if (v.IsMap()) {
        ReadLongForm(name, v, &decl, &out);
      } else {
        out.push_back({v, absl::StrCat("params.", name, " must be a scalar (its default) or "
                                       "{ type: ..., default: ... }")});
        continue;
      }
      if (!decl.has_default && scheduled) {
        out.push_back({kv.first, absl::StrCat("params.", name, " has no default, but scheduled "
                                              "runs have no --conf: give it a default")});
      }
      if (decl.has_default) dag->params[name] = decl.default_value;
      dag->param_decls[name] = std::move(decl);
    }
  } catch (const YAML::Exception& e) {
    out.push_back({params, absl::StrCat("YAML error: ", e.msg)});
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> CheckConf(
    const DagSpec& dag, const std::map<std::string, std::string>& conf) {
  std::vector<std::string> declared;
  for (const auto& [name, decl] : dag.param_decls) declared.push_back(name);
  std::vector<std::string> problems;
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : conf) {
    auto it = dag.param_decls.find(key);
    if (it == dag.param_decls.end()) {
      problems.push_back(absl::StrCat(
          "unknown param '", key, "'",
          declared.empty() ? absl::StrCat(" (DAG ", dag.id, " declares no params)")
                           : DidYouMean(key, declared)));
      continue;
    }
    if (value.find('\0') != std::string::npos) {
      problems.push_back(absl::StrCat("--conf ", key, ": a value may not hold a NUL byte"));
      continue;
    }
    auto norm = NormalizeParamValue(it->second.type, value);
    if (!norm.ok()) {
      problems.push_back(absl::StrCat("--conf ", key, "=", value, ": param ", key, " is ",
                                      WithArticle(it->second.type)));
      continue;
    }
    out[key] = *norm;
  }
  for (const auto& [name, decl] : dag.param_decls) {
    if (!decl.has_default && !conf.count(name)) {
      problems.push_back(absl::StrCat("param ", name, " (", WithArticle(decl.type),
                                      ") has no default: give it with --conf ", name, "=..."));
    }
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return out;
}

}  // namespace de::dag
