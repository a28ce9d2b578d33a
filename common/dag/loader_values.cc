// The DAG loader's small pieces, shared by every part: diagnostics (errors, warnings, their
// positions), unknown/duplicate key checks, the scalar readers (string, int, bool, duration)
// with their messages, template checks of values, and durations (ParseDuration, loader.h).
#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/dag/loader_internal.h"
#include "common/dag/param_check.h"
#include "common/dag/suggest.h"
#include "common/dag/template.h"

namespace de::dag {

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text_in) {
  absl::string_view original(text_in.data(), text_in.size());
  absl::string_view text = absl::StripAsciiWhitespace(original);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration '", original, "': ", why));
  };
  if (text.empty()) return bad("empty (expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d)");
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (!text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos) {
    return bad(
        absl::StrCat("a number needs a unit, e.g. '", original, "s' (units: ms, s, m, h, d, w)"));
  }
  absl::Duration total;
  size_t pos = 0;
  if (text.empty()) return bad("expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d");
  while (pos < text.size()) {
    size_t digits_end = pos;
    while (digits_end < text.size() && absl::ascii_isdigit(text[digits_end])) ++digits_end;
    if (digits_end == pos) return bad("expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d");
    int64_t n = 0;
    if (digits_end - pos > 12 || !absl::SimpleAtoi(text.substr(pos, digits_end - pos), &n)) {
      return bad("number too large");
    }
    size_t unit_end = digits_end;
    while (unit_end < text.size() && absl::ascii_isalpha(text[unit_end])) ++unit_end;
    absl::string_view unit = text.substr(digits_end, unit_end - digits_end);
    if (unit.empty()) return bad("a number needs a unit (ms, s, m, h, d, w)");
    if (unit == "ms") {
      total += absl::Milliseconds(n);
    } else if (unit == "s") {
      total += absl::Seconds(n);
    } else if (unit == "m") {
      total += absl::Minutes(n);
    } else if (unit == "h") {
      total += absl::Hours(n);
    } else if (unit == "d") {
      total += absl::Hours(24 * n);
    } else if (unit == "w") {
      total += absl::Hours(24 * 7 * n);
    } else {
      return bad(absl::StrCat("unknown unit '", unit, "' (use ms, s, m, h, d or w)"));
    }
    pos = unit_end;
  }
  return negative ? -total : total;
}

namespace loader_internal {

void Loader::Error(const YAML::Mark& m, std::string message) {
  Diagnostic d;
  d.file = file_;
  if (m.line >= 0) {
    d.line = m.line + 1;
    d.column = m.column + 1;
  }
  d.message = std::move(message);
  errors_.push_back(std::move(d));
}

void Loader::Warning(const YAML::Node& n, std::string message) {
  size_t before = errors_.size();
  Error(n, std::move(message));
  warnings_.push_back(std::move(errors_.back()));
  errors_.resize(before);
}

std::optional<absl::string_view> Loader::TextLine(int line) const {
  size_t begin = 0;
  for (int i = 0; i < line && begin != std::string::npos; ++i) {
    begin = text_.find('\n', begin);
    if (begin != std::string::npos) ++begin;
  }
  if (begin == std::string::npos) return std::nullopt;
  size_t end = text_.find('\n', begin);
  return absl::string_view(text_).substr(
      begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string Loader::TemplateHint(const YAML::Mark& m) const {
  if (m.line < 0) return "";
  std::optional<absl::string_view> line = TextLine(m.line);
  if (!line || line->find("{{") == absl::string_view::npos) return "";
  return " (hint: quote values that contain {{ }} templates, e.g. \"dt={{ ds }}\")";
}

YAML::Mark Loader::ExprMark(const YAML::Mark& value, const std::string& expr, int column) const {
  if (value.line < 0) return value;
  std::optional<absl::string_view> found = TextLine(value.line);
  if (!found) return value;
  absl::string_view line = *found;
  size_t at = static_cast<size_t>(value.column);
  if (at >= line.size()) return value;
  size_t skip = 0;
  if (line[at] == '"' || line[at] == '\'') skip = 1;
  if (line.substr(at + skip, expr.size()) != expr) return value;
  if (skip == 1 &&
      (at + 1 + expr.size() >= line.size() || line[at + 1 + expr.size()] != line[at])) {
    return value;
  }
  YAML::Mark m = value;
  m.column = value.column + static_cast<int>(skip) + column - 1;
  return m;
}

YAML::Mark Loader::BlockOffsetMark(const YAML::Node& scalar, size_t offset) const {
  const YAML::Mark m = scalar.Mark();
  const std::string& v = scalar.Scalar();
  if (m.line < 0 || offset >= v.size()) return m;
  const size_t nl = offset == 0 ? std::string::npos : v.rfind('\n', offset - 1);
  if (nl == std::string::npos) return m;  // on the value's first line: its start says where
  // A block scalar's text starts on the line after its indicator, each line indented as the
  // first one is.
  const int lines_before = static_cast<int>(std::count(v.begin(), v.begin() + offset, '\n'));
  std::optional<absl::string_view> first = TextLine(m.line + 1);
  std::optional<absl::string_view> line = TextLine(m.line + 1 + lines_before);
  if (!first || !line) return m;
  const size_t indent = first->find_first_not_of(' ');
  const size_t column = indent + (offset - nl - 1);
  if (indent == absl::string_view::npos ||
      line->substr(std::min(column, line->size()), 2) != "{{") {
    return m;  // folded or quoted over several lines: the file does not show the text as is
  }
  YAML::Mark out = m;
  out.line = m.line + 1 + lines_before;
  out.column = static_cast<int>(column);
  return out;
}

YAML::Mark Loader::TemplateMark(const YAML::Node& scalar, size_t offset) const {
  const YAML::Mark m = scalar.Mark();
  const std::string& v = scalar.Scalar();
  if (m.line < 0 || offset >= v.size()) return m;
  // The template's own text (to its "}}", on its line), and how often it stands before it.
  size_t end = v.find("}}", offset);
  end = end == std::string::npos ? v.size() : end + 2;
  end = std::min(end, v.find('\n', offset));
  const std::string needle = v.substr(offset, end - offset);
  int before = 0;
  for (size_t at = v.find(needle); at < offset; at = v.find(needle, at + needle.size())) ++before;
  // The same occurrence in the file from the value's start: literal and folded block scalars,
  // quoted and plain ones keep a template's text as written (unless a line break folds inside
  // it, or an escape sits in it: then nothing matches and the value's own position is used).
  std::optional<absl::string_view> line = TextLine(m.line);
  if (!line) return m;
  size_t from = static_cast<size_t>(line->data() - text_.data()) + static_cast<size_t>(m.column);
  size_t found = text_.find(needle, from);
  for (; before > 0 && found != std::string::npos; --before) {
    found = text_.find(needle, found + needle.size());
  }
  if (found == std::string::npos) return m;
  YAML::Mark out = m;
  out.line = static_cast<int>(std::count(text_.begin() + from, text_.begin() + found, '\n')) + m.line;
  const size_t line_start = text_.rfind('\n', found == 0 ? 0 : found - 1);
  out.column = static_cast<int>(found - (line_start == std::string::npos || found == 0 ? 0 : line_start + 1));
  return out;
}

void Loader::CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                       absl::string_view what) {
  std::map<std::string, int> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      Error(kv.first, absl::StrCat(what, " keys must be plain names"));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    auto [it, inserted] = seen.emplace(key, kv.first.Mark().line + 1);
    if (!inserted) {
      Error(kv.first, absl::StrCat("duplicate key '", key, "' (first at line ", it->second, ")"));
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      Error(kv.first, absl::StrCat("unknown ", what, " key '", key, "'", DidYouMean(key, allowed)));
    }
  }
}

std::optional<std::string> Loader::String(const YAML::Node& n, absl::string_view name) {
  if (!n.IsScalar()) {
    Error(n, absl::StrCat(name, " must be a string"));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<int> Loader::Int(const YAML::Node& n, absl::string_view name, int min,
                               absl::string_view kind) {
  int v = 0;
  if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), &v) || v < min) {
    Error(n, absl::StrCat(name, " must be ", kind));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Loader::Bool(const YAML::Node& n, absl::string_view name) {
  bool b = false;
  if (n.IsScalar() && ParseBoolWord(n.Scalar(), &b)) return b;
  Error(n, absl::StrCat(name, " must be true or false"));
  return std::nullopt;
}

std::optional<absl::Duration> Loader::Duration(const YAML::Node& n, absl::string_view name,
                                               bool positive) {
  if (!n.IsScalar()) {
    Error(n, absl::StrCat(name, " must be a duration like 30s, 5m, 1h"));
    return std::nullopt;
  }
  auto d = ParseDuration(n.Scalar());
  if (!d.ok()) {
    Error(n, absl::StrCat(name, ": ", d.status().message()));
    return std::nullopt;
  }
  if (positive && *d <= absl::ZeroDuration()) {
    Error(n, absl::StrCat(name, " must be positive"));
    return std::nullopt;
  }
  if (!positive && *d < absl::ZeroDuration()) {
    Error(n, absl::StrCat(name, " must not be negative"));
    return std::nullopt;
  }
  return *d;
}

void Loader::CheckTemplates(const YAML::Node& n, std::vector<std::string>* refs) {
  if (n.IsScalar()) {
    std::vector<std::string> external;
    size_t at = std::string::npos;
    absl::Status st = CheckTemplate(n.Scalar(), param_names_, &external, &at);
    if (!st.ok()) Error(TemplateMark(n, at), std::string(st.message()));
    for (auto& name : external) {
      if (refs == nullptr) {   // params and alert hooks: their values are stored or logged
        Error(n, absl::StrCat("'{{ ", name, " }}': variables and secrets are for a task's "
                              "`with:` only"));
        continue;
      }
      dag_.external_refs.push_back({name, n.Mark().line + 1, n.Mark().column + 1});
      if (std::find(refs->begin(), refs->end(), name) == refs->end()) {
        refs->push_back(std::move(name));
      }
    }
  } else if (n.IsSequence()) {
    for (const auto& item : n) CheckTemplates(item, refs);
  } else if (n.IsMap()) {
    for (const auto& kv : n) CheckTemplates(kv.second, refs);
  }
}

}  // namespace loader_internal
}  // namespace de::dag
