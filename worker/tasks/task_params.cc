#include "worker/tasks/task_params.h"

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/dag/param_values.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"

namespace de::tasks {

absl::Status TaskParamReader::Bad(absl::string_view key, absl::string_view why) const {
  return absl::InvalidArgumentError(absl::StrCat(prefix_, key, ": ", why));
}

absl::Status TaskParamReader::Fail(absl::string_view what) const {
  return absl::InvalidArgumentError(absl::StrCat(prefix_, what));
}

absl::StatusOr<std::string> TaskParamReader::Scalar(const YAML::Node& n,
                                                    const std::string& key) const {
  if (!n.IsScalar()) return Bad(key, "expected a value");
  return n.Scalar();
}

absl::StatusOr<int64_t> TaskParamReader::Int(const YAML::Node& n, const std::string& key,
                                             int64_t min) const {
  absl::StatusOr<std::string> s = Scalar(n, key);
  if (!s.ok()) return s.status();
  int64_t v = 0;
  if (!engine::ParseCsvInt64(*s, &v) || v < min) {
    return Bad(key, absl::StrCat("expected an integer >= ", min, ", got '", *s, "'"));
  }
  return v;
}

absl::StatusOr<char> TaskParamReader::Char(const YAML::Node& n, const std::string& key,
                                           bool allow_none) const {
  std::string s = n.IsNull() ? "" : (n.IsScalar() ? n.Scalar() : "?invalid?");
  if (s == "\\t" || s == "\t" || s == "tab") return '\t';
  if (allow_none && (s.empty() || s == "none")) return '\0';
  if (s.size() != 1 || s[0] == '\n' || s[0] == '\r') {
    return Bad(key, absl::StrCat("expected one character (or \\t)", allow_none ? " or none" : "",
                                 ", got '", s, "'"));
  }
  return s[0];
}

absl::StatusOr<std::vector<std::string>> TaskParamReader::Strings(const YAML::Node& n,
                                                                  const std::string& key) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& e : n) {
      if (!e.IsScalar()) return Bad(key, "expected a list of strings");
      out.push_back(e.Scalar());
    }
  } else if (!n.IsNull()) {
    return Bad(key, "expected a list of strings");
  }
  return out;
}

absl::StatusOr<int64_t> TaskParamReader::Size(const YAML::Node& n, const std::string& key) const {
  DE_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
  auto v = dag::ParseByteSize(s);
  if (!v.ok()) return Bad(key, v.status().message());
  return *v;
}

absl::StatusOr<bool> TaskParamReader::Flag(const YAML::Node& n, const std::string& key) const {
  DE_ASSIGN_OR_RETURN(std::string f, Scalar(n, key));
  return f == "true" || f == "yes";
}

absl::Status TaskParamReader::Codec(const YAML::Node& n, const std::string& key,
                                    engine::Codec* out) const {
  DE_ASSIGN_OR_RETURN(std::string c, Scalar(n, key));
  if (!engine::ParseCodec(c, out)) {
    return Bad(key, absl::StrCat("'", c, "' is not one of snappy, zstd, gzip, none"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> TaskParamReader::Threads(const YAML::Node& with) const {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  if (!with["threads"]) return static_cast<int>(std::min(2u, hw));
  DE_ASSIGN_OR_RETURN(int64_t t, Int(with["threads"], "threads", 0));
  return t == 0 ? static_cast<int>(hw) : static_cast<int>(std::min<int64_t>(t, 64));
}

absl::Status TaskParamReader::CsvOptions(const YAML::Node& with,
                                         engine::CsvReadOptions* csv) const {
  if (const YAML::Node& s = with["schema"]) {
    if (!s.IsMap()) return Bad("schema", "expected a map {column: type}");
    for (const auto& kv : s) {
      std::string name = kv.first.as<std::string>();
      std::string tn = kv.second.IsScalar() ? kv.second.Scalar() : "";
      engine::Type t;
      if (!engine::ParseTypeName(tn, &t)) {
        return Bad("schema", absl::StrCat("column '", name, "': unknown type '", tn,
                                          "' (bool, int32, int64, double, date, timestamp, string)"));
      }
      csv->schema.emplace_back(name, t);
    }
  }
  if (with["delimiter"]) {
    DE_ASSIGN_OR_RETURN(csv->delimiter, Char(with["delimiter"], "delimiter", false));
  }
  if (with["quote"]) {
    DE_ASSIGN_OR_RETURN(csv->quote, Char(with["quote"], "quote", true));
  }
  if (csv->delimiter != 0 && csv->delimiter == csv->quote) {
    return Fail("delimiter and quote must differ");
  }
  if (with["header"]) {
    DE_ASSIGN_OR_RETURN(std::string h, Scalar(with["header"], "header"));
    std::string l = absl::AsciiStrToLower(h);
    if (l == "true" || l == "yes") csv->header = true;
    else if (l == "false" || l == "no") csv->header = false;
    else if (l != "auto") return Bad("header", absl::StrCat("expected true, false or auto, got '", h, "'"));
  }
  if (with["null_values"]) {
    DE_ASSIGN_OR_RETURN(csv->null_values, Strings(with["null_values"], "null_values"));
  }
  if (with["sample_rows"]) {
    DE_ASSIGN_OR_RETURN(csv->sample_rows, Int(with["sample_rows"], "sample_rows", 1));
  }
  return absl::OkStatus();
}

}  // namespace de::tasks
