#include "common/dag/template.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/dag/shell_quote.h"
#include "common/dag/suggest.h"
#include "common/status.h"

namespace de::dag {
namespace {

constexpr absl::string_view kParamsPrefix = "params.";
constexpr absl::string_view kVar(kVarPrefix.data(), kVarPrefix.size());
constexpr absl::string_view kSecret(kSecretPrefix.data(), kSecretPrefix.size());

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-'; }

std::vector<std::string> KnownNames(const std::set<std::string>& param_names) {
  std::vector<std::string> names(StandardTemplateVars().begin(), StandardTemplateVars().end());
  for (const auto& p : param_names) names.push_back(absl::StrCat(kParamsPrefix, p));
  return names;
}

absl::Status UnknownName(absl::string_view name, const std::set<std::string>& param_names) {
  if (absl::StartsWith(name, kParamsPrefix)) {
    std::string param(name.substr(kParamsPrefix.size()));
    std::string near =
        NearestMatch(param, std::vector<std::string>(param_names.begin(), param_names.end()));
    return absl::InvalidArgumentError(
        absl::StrCat("unknown param '", param, "' in '{{ ", name, " }}'",
                     near.empty() ? "" : absl::StrCat(" (did you mean 'params.", near, "'?)")));
  }
  std::string hint = DidYouMean(std::string(name), KnownNames(param_names));
  return absl::InvalidArgumentError(absl::StrCat("unknown template variable '", name, "'", hint));
}

std::string IsoTime(absl::Time t, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz);
}

// `shell_command`: `node` is a shell task's `with:`; its string `command` is quoted for the shell.
absl::Status EmitRendered(const YAML::Node& node, const TemplateContext& ctx, YAML::Emitter& out,
                          bool shell_command = false) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      return absl::OkStatus();
    case YAML::NodeType::Scalar: {
      DE_ASSIGN_OR_RETURN(std::string value, RenderTemplate(node.Scalar(), ctx));
      // A quoted scalar stays quoted so "123" remains a string; plain scalars (numbers, bools,
      // most strings) stay plain and the emitter quotes them only when it must.
      if (node.Tag() == "!") out << YAML::DoubleQuoted;
      out << value;
      return absl::OkStatus();
    }
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) DE_RETURN_IF_ERROR(EmitRendered(item, ctx, out));
      out << YAML::EndSeq;
      return absl::OkStatus();
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        out << YAML::Key;
        if (kv.first.IsScalar()) {
          out << kv.first.Scalar();
        } else {
          out << kv.first;
        }
        out << YAML::Value;
        if (shell_command && kv.first.IsScalar() && kv.first.Scalar() == "command" &&
            kv.second.IsScalar()) {
          DE_ASSIGN_OR_RETURN(std::string line, RenderShellCommand(kv.second.Scalar(), ctx));
          out << YAML::DoubleQuoted << line;
          continue;
        }
        DE_RETURN_IF_ERROR(EmitRendered(kv.second, ctx, out));
      }
      out << YAML::EndMap;
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

// The `| filter` parts of a reference's `inner` text into `ref`; `inner` keeps the name part.
absl::Status ParseFilters(absl::string_view* inner, TemplateRef* ref) {
  size_t bar = inner->find('|');
  if (bar == absl::string_view::npos) return absl::OkStatus();
  absl::string_view name = absl::StripAsciiWhitespace(inner->substr(0, bar));
  std::vector<absl::string_view> parts = absl::StrSplit(inner->substr(bar + 1), '|');
  for (absl::string_view& p : parts) p = absl::StripAsciiWhitespace(p);
  for (absl::string_view part : parts) {
    std::optional<TemplateFilter> f = ParseTemplateFilter(std::string_view(part.data(), part.size()));
    if (f) {
      ref->filters.push_back(*f);
      ref->raw = ref->raw || *f == TemplateFilter::kRaw;
      continue;
    }
    const std::string shown = absl::StrCat("{{ ", name, " | ", absl::StrJoin(parts, " | "), " }}");
    if (part.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("empty filter in '", shown, "'"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown filter '", part, "' in '", shown, "'",
        DidYouMean(std::string(part), TemplateFilterNames()),
        "; filters: ", absl::StrJoin(TemplateFilterNames(), ", ")));
  }
  *inner = inner->substr(0, bar);
  return absl::OkStatus();
}

}  // namespace

absl::Status ScanTemplate(std::string_view text_in,
                          const std::function<absl::Status(std::string_view)>& on_literal,
                          const std::function<absl::Status(const TemplateRef&)>& on_ref) {
  absl::string_view text(text_in.data(), text_in.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == absl::string_view::npos) {
      absl::string_view rest = text.substr(pos);
      DE_RETURN_IF_ERROR(on_literal(std::string_view(rest.data(), rest.size())));
      break;
    }
    absl::string_view lit = text.substr(pos, open - pos);
    DE_RETURN_IF_ERROR(on_literal(std::string_view(lit.data(), lit.size())));
    size_t close = text.find("}}", open + 2);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unterminated '{{' at offset ", open, " (missing '}}')"));
    }
    absl::string_view inner = text.substr(open + 2, close - open - 2);
    TemplateRef ref;
    DE_RETURN_IF_ERROR(ParseFilters(&inner, &ref));
    absl::string_view name = absl::StripAsciiWhitespace(inner);
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("empty '{{ }}' at offset ", open));
    }
    for (char c : name) {
      if (!IsNameChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'{{ ", name, " }}' is not a variable name (only {{ name }}, ",
                         "{{ params.NAME }}, {{ var.NAME }} and {{ secret.NAME }})"));
      }
    }
    ref.name = std::string_view(name.data(), name.size());
    ref.offset = open;
    DE_RETURN_IF_ERROR(on_ref(ref));
    pos = close + 2;
  }
  return absl::OkStatus();
}

const std::set<std::string>& StandardTemplateVars() {
  static const std::set<std::string> kVars = {"ds",
                                              "ds_nodash",
                                              "ts",
                                              "data_interval_start",
                                              "data_interval_end",
                                              "logical_date",
                                              "run_id",
                                              "dag",
                                              "task",
                                              "attempt"};
  return kVars;
}

const std::set<std::string>& MappedTemplateVars() {
  static const std::set<std::string> kVars = {"item", "map_index"};
  return kVars;
}

TemplateContext MakeTemplateContext(const std::string& dag_id, const std::string& run_id,
                                    const std::string& task_id, int attempt,
                                    absl::Time logical_date, absl::Time interval_start,
                                    absl::Time interval_end, absl::TimeZone tz,
                                    const std::map<std::string, std::string>& params) {
  TemplateContext ctx;
  ctx.vars["ds"] = absl::FormatTime("%Y-%m-%d", logical_date, tz);
  ctx.vars["ds_nodash"] = absl::FormatTime("%Y%m%d", logical_date, tz);
  ctx.vars["ts"] = IsoTime(logical_date, tz);
  ctx.vars["logical_date"] = IsoTime(logical_date, tz);
  ctx.vars["data_interval_start"] = IsoTime(interval_start, tz);
  ctx.vars["data_interval_end"] = IsoTime(interval_end, tz);
  ctx.vars["run_id"] = run_id;
  ctx.vars["dag"] = dag_id;
  ctx.vars["task"] = task_id;
  ctx.vars["attempt"] = absl::StrCat(attempt);
  ctx.params = params;
  return ctx;
}

absl::StatusOr<std::string> LookupTemplateValue(std::string_view name_in,
                                                const TemplateContext& ctx) {
  absl::string_view name(name_in.data(), name_in.size());
  for (auto [prefix, values, kind] :
       {std::tuple{kVar, &ctx.variables, "variable"},
        std::tuple{kSecret, &ctx.secrets, "secret"}}) {
    if (!absl::StartsWith(name, prefix)) continue;
    auto it = values->find(std::string(name.substr(prefix.size())));
    if (it != values->end()) return it->second;
    return absl::FailedPreconditionError(
        absl::StrCat("'{{ ", name, " }}': the ", kind, " was not resolved for this task"));
  }
  if (absl::StartsWith(name, kParamsPrefix)) {
    auto it = ctx.params.find(std::string(name.substr(kParamsPrefix.size())));
    if (it != ctx.params.end()) return it->second;
  } else {
    auto it = ctx.vars.find(std::string(name));
    if (it != ctx.vars.end()) return it->second;
  }
  std::set<std::string> param_names;
  for (const auto& [k, v] : ctx.params) param_names.insert(k);
  return UnknownName(name, param_names);
}

absl::StatusOr<std::string> TemplateRefValue(const TemplateRef& ref, const TemplateContext& ctx) {
  DE_ASSIGN_OR_RETURN(std::string v, LookupTemplateValue(ref.name, ctx));
  for (TemplateFilter f : ref.filters) v = ApplyTemplateFilter(f, v);
  return v;
}

absl::StatusOr<std::string> RenderTemplate(std::string_view text, const TemplateContext& ctx) {
  std::string out;
  absl::Status st = ScanTemplate(
      text,
      [&](std::string_view lit) {
        out.append(lit.data(), lit.size());
        return absl::OkStatus();
      },
      [&](const TemplateRef& ref) -> absl::Status {
        DE_ASSIGN_OR_RETURN(std::string v, TemplateRefValue(ref, ctx));
        out += v;
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  return out;
}

absl::Status CheckTemplate(std::string_view text, const std::set<std::string>& param_names,
                           std::vector<std::string>* external, size_t* error_offset) {
  auto check = [&](const TemplateRef& ref) -> absl::Status {
    absl::string_view name(ref.name.data(), ref.name.size());
    for (absl::string_view prefix : {kVar, kSecret}) {
      if (!absl::StartsWith(name, prefix)) continue;
      absl::string_view rest = name.substr(prefix.size());
      const bool valid = !rest.empty() && !absl::ascii_isdigit(rest[0]) &&
                         std::all_of(rest.begin(), rest.end(),
                                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
      if (!valid) {
        return absl::InvalidArgumentError(absl::StrCat("'{{ ", name, " }}': a ",
                                                       prefix == kVar ? "variable" : "secret",
                                                       " name is letters, digits and _"));
      }
      if (external != nullptr) external->emplace_back(name);
      return absl::OkStatus();
    }
    if (absl::StartsWith(name, kParamsPrefix)) {
      if (param_names.count(std::string(name.substr(kParamsPrefix.size())))) {
        return absl::OkStatus();
      }
    } else if (StandardTemplateVars().count(std::string(name)) ||
               MappedTemplateVars().count(std::string(name))) {
      return absl::OkStatus();   // item / map_index: the loader keeps them to for_each tasks
    }
    return UnknownName(name, param_names);
  };
  // A malformed reference fails in ScanTemplate: it is the first "{{" after the last good one.
  size_t next = 0, at = std::string_view::npos;
  absl::Status st = ScanTemplate(
      text, [](std::string_view) { return absl::OkStatus(); },
      [&](const TemplateRef& ref) -> absl::Status {
        absl::Status s = check(ref);
        if (!s.ok()) at = ref.offset;
        next = ref.offset + 2;
        return s;
      });
  if (!st.ok() && error_offset != nullptr) {
    *error_offset = at != std::string_view::npos ? at : text.find("{{", next);
  }
  return st;
}

absl::StatusOr<std::string> RenderYaml(const YAML::Node& node, const TemplateContext& ctx) {
  return RenderTaskYaml("", node, ctx);
}

absl::StatusOr<std::string> RenderTaskYaml(std::string_view type, const YAML::Node& node,
                                           const TemplateContext& ctx) {
  try {
    YAML::Emitter out;
    DE_RETURN_IF_ERROR(EmitRendered(node, ctx, out, /*shell_command=*/type == "shell"));
    if (!out.good()) {
      return absl::InternalError(absl::StrCat("YAML emitter: ", out.GetLastError()));
    }
    return std::string(out.c_str(), out.size());
  } catch (const YAML::Exception& e) {
    return absl::InternalError(absl::StrCat("YAML emitter: ", e.what()));
  }
}

}  // namespace de::dag

namespace de::dag {

absl::StatusOr<std::string> RenderShellCommand(std::string_view text, const TemplateContext& ctx) {
  ShellLexer lexer;
  std::string out;
  absl::Status st = ScanTemplate(
      text,
      [&](std::string_view lit) {
        out.append(lit.data(), lit.size());
        return lexer.FeedLiteral(lit);
      },
      [&](const TemplateRef& ref) -> absl::Status {
        DE_ASSIGN_OR_RETURN(std::string v, TemplateRefValue(ref, ctx));
        if (ref.raw) {  // shell syntax by the author's choice
          out += v;
          return lexer.FeedLiteral(v);
        }
        DE_ASSIGN_OR_RETURN(std::string quoted, lexer.QuoteValue(ref.name, v));
        out += quoted;
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  return out;
}

absl::Status CheckShellCommand(std::string_view text, std::vector<std::string>* raw_names,
                               size_t* error_offset) {
  ShellLexer lexer;
  size_t at = std::string_view::npos;
  absl::Status st = ScanTemplate(
      text,
      [&](std::string_view lit) {
        at = std::string_view::npos;
        return lexer.FeedLiteral(lit);
      },
      [&](const TemplateRef& ref) -> absl::Status {
        at = ref.offset;
        if (ref.raw) {
          if (raw_names != nullptr) raw_names->push_back(std::string(ref.name));
          return absl::OkStatus();
        }
        // A placeholder that every context accepts: where it is, not what it is, can be checked.
        return lexer.QuoteValue(ref.name, "0").status();
      });
  if (!st.ok() && error_offset != nullptr) *error_offset = at;
  return st;
}

}  // namespace de::dag
