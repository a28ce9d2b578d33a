#include "common/dag/param_values.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/dag/loader.h"
#include "common/dag/param_check.h"

namespace de::dag {

absl::StatusOr<int64_t> ParseByteSize(std::string_view text_in) {
  const std::string text(text_in);
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  size_t i = 0;
  while (i < t.size() && (absl::ascii_isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.'))
    ++i;
  double num = 0;
  auto r = std::from_chars(t.data(), t.data() + i, num);
  if (i == 0 || r.ec != std::errc() || r.ptr != t.data() + i) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size like 192MB"));
  }
  std::string unit(absl::StripAsciiWhitespace(absl::string_view(t).substr(i)));
  double mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': unknown unit '", unit, "' (use B, KB, MB, GB or TB)"));
  }
  double v = num * mult;
  if (!(v >= 1) || v > 9e18) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is out of range"));
  }
  return static_cast<int64_t>(v);
}

absl::StatusOr<ParamValues> ParamValues::Make(std::string_view type, const YAML::Node& with) {
  const TaskParams* decl = FindTaskParams(type);
  if (decl == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown task type '", std::string(type), "'"));
  }
  ParamCheckOptions o;
  o.subject = std::string(type);
  o.key_prefix = "";
  absl::Status s = ProblemsToStatus(CheckTaskParams(type, with, o));
  if (!s.ok()) return s;
  YAML::Node copy =
      with.IsDefined() && with.IsMap() ? YAML::Clone(with) : YAML::Node(YAML::NodeType::Map);
  NormalizeNullEnums(type, &copy);
  return ParamValues(decl, copy);
}

const ParamSpec* ParamValues::Spec(std::string_view key) const {
  for (const auto& p : decl_->params)
    if (p.name == key) return &p;
  return nullptr;
}

bool ParamValues::Has(std::string_view key) const {
  const YAML::Node& w = with_;
  YAML::Node n = w[std::string(key)];
  return n.IsDefined() && !n.IsNull();
}

YAML::Node ParamValues::Node(std::string_view key) const {
  if (!Has(key)) return YAML::Node();
  const YAML::Node& w = with_;
  return w[std::string(key)];
}

std::string ParamValues::String(std::string_view key) const {
  if (Has(key)) {
    YAML::Node n = Node(key);
    if (n.IsScalar()) return n.Scalar();
  }
  const ParamSpec* s = Spec(key);
  return s == nullptr ? "" : s->default_value;
}

int64_t ParamValues::Int(std::string_view key) const {
  int64_t v = 0;
  return absl::SimpleAtoi(String(key), &v) ? v : 0;
}

bool ParamValues::Bool(std::string_view key) const {
  std::string s = absl::AsciiStrToLower(String(key));
  return s == "true" || s == "yes" || s == "on";
}

int64_t ParamValues::Size(std::string_view key) const {
  auto v = ParseByteSize(String(key));
  return v.ok() ? *v : 0;
}

absl::Duration ParamValues::Duration(std::string_view key) const {
  auto v = ParseDuration(String(key));
  return v.ok() ? *v : absl::ZeroDuration();
}

char ParamValues::Char(std::string_view key) const {
  std::string s = String(key);
  if (s == "\\t" || s == "tab" || s == "\t") return '\t';
  return s.size() == 1 ? s[0] : '\0';
}

std::vector<std::string> ParamValues::Strings(std::string_view key) const {
  std::vector<std::string> out;
  YAML::Node n = Node(key);
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& e : n)
      if (e.IsScalar()) out.push_back(e.Scalar());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParamValues::StringMap(
    std::string_view key) const {
  std::vector<std::pair<std::string, std::string>> out;
  YAML::Node n = Node(key);
  if (!n.IsMap()) return out;
  for (const auto& kv : n) {
    if (kv.first.IsScalar() && kv.second.IsScalar())
      out.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  }
  return out;
}

}  // namespace de::dag
