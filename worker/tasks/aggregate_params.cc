// Parsing and validation of `aggregate`'s `with:` parameters.
#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"
#include "engine/io/paths.h"
#include "engine/ops/expr.h"
#include "worker/tasks/aggregate.h"
#include "worker/tasks/csv_to_parquet.h"

namespace de::tasks {

namespace {

const std::vector<std::string>& KnownKeys() {
  static const std::vector<std::string> kKnown = {
      "input", "output", "format", "compression", "compression_level", "group_by", "metrics",
      "filter", "having", "order_by", "limit", "partition_by", "threads", "max_groups",
      "max_memory", "fsync", "schema", "delimiter", "header", "quote", "null_values", "on_error",
      "sample_rows"};
  return kKnown;
}

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("aggregate: ", key, ": ", why));
}

absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return Bad(key, "expected a value");
  return n.Scalar();
}

absl::StatusOr<int64_t> IntParam(const YAML::Node& n, const std::string& key, int64_t min) {
  DE_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
  int64_t v;
  if (!engine::ParseCsvInt64(s, &v) || v < min) {
    return Bad(key, absl::StrCat("expected an integer >= ", min, ", got '", s, "'"));
  }
  return v;
}

absl::StatusOr<char> CharParam(const YAML::Node& n, const std::string& key, bool allow_none) {
  std::string s = n.IsNull() ? "" : (n.IsScalar() ? n.Scalar() : "?invalid?");
  if (s == "\\t" || s == "\t" || s == "tab") return '\t';
  if (allow_none && (s.empty() || s == "none")) return '\0';
  if (s.size() != 1 || s[0] == '\n' || s[0] == '\r') {
    return Bad(key, absl::StrCat("expected one character (or \\t)", allow_none ? " or none" : "",
                                 ", got '", s, "'"));
  }
  return s[0];
}

absl::StatusOr<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& key) {
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

absl::Status ParseGroupBy(const YAML::Node& n, std::vector<engine::GroupKeySpec>* out) {
  auto one = [&](const YAML::Node& e) -> absl::Status {
    engine::GroupKeySpec k;
    if (e.IsScalar()) {
      k.column = e.Scalar();
    } else if (e.IsMap()) {
      for (const auto& kv : e) {
        std::string key = kv.first.as<std::string>();
        if (key != "bucket" && key != "of" && key != "as") {
          return Bad("group_by", absl::StrCat("unknown key '", key, "' (expected bucket, of, as)"));
        }
      }
      if (!e["of"] || !e["of"].IsScalar() || !e["bucket"] || !e["bucket"].IsScalar()) {
        return Bad("group_by", "a time bucket is {bucket: hour|day|week|month|year, of: col, as: name}");
      }
      k.column = e["of"].Scalar();
      if (!engine::ParseTimeBucket(e["bucket"].Scalar(), &k.bucket)) {
        return Bad("group_by", absl::StrCat("bucket '", e["bucket"].Scalar(),
                                            "' is not one of hour, day, week, month, year"));
      }
      if (e["as"]) {
        DE_ASSIGN_OR_RETURN(k.name, Scalar(e["as"], "group_by: as"));
      }
    } else {
      return Bad("group_by", "expected column names or {bucket: day, of: col, as: name}");
    }
    if (k.column.empty()) return Bad("group_by", "an empty column name");
    out->push_back(std::move(k));
    return absl::OkStatus();
  };
  if (n.IsSequence()) {
    for (const auto& e : n) DE_RETURN_IF_ERROR(one(e));
  } else if (!n.IsNull()) {
    DE_RETURN_IF_ERROR(one(n));
  }
  return absl::OkStatus();
}

// metrics: {name: "fn(col)", ...} or [{name: "fn(col)"}, ...].
absl::Status ParseMetrics(const YAML::Node& n, std::vector<engine::MetricSpec>* out) {
  auto add = [&](const YAML::Node& k, const YAML::Node& v) -> absl::Status {
    std::string name = k.as<std::string>();
    if (!v.IsScalar()) {
      return Bad("metrics", absl::StrCat("'", name, "': expected a call such as count(*), sum(col), "
                                         "\"quantile(col, 0.95)\""));
    }
    auto call = engine::ParseAggregateCall(v.Scalar());
    if (!call.ok()) return Bad("metrics", absl::StrCat("'", name, "': ", call.status().message()));
    out->push_back({name, *call});
    return absl::OkStatus();
  };
  if (n.IsMap()) {
    for (const auto& kv : n) DE_RETURN_IF_ERROR(add(kv.first, kv.second));
  } else if (n.IsSequence()) {
    for (const auto& e : n) {
      if (!e.IsMap() || e.size() != 1) {
        return Bad("metrics", "a list entry must be one {name: call} pair");
      }
      for (const auto& kv : e) DE_RETURN_IF_ERROR(add(kv.first, kv.second));
    }
  } else {
    return Bad("metrics", "expected a map {name: call}, e.g. {n: count(*), avg_delay: avg(delay)}");
  }
  if (out->empty()) return Bad("metrics", "at least one metric is needed");
  return absl::OkStatus();
}

absl::Status ParseCsvOptions(const YAML::Node& with, engine::CsvReadOptions* csv) {
  csv->on_error = engine::OnError::kFail;  // a dropped row would silently change the numbers
  if (with["schema"]) {
    const YAML::Node& s = with["schema"];
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
    DE_ASSIGN_OR_RETURN(csv->delimiter, CharParam(with["delimiter"], "delimiter", false));
  }
  if (with["quote"]) {
    DE_ASSIGN_OR_RETURN(csv->quote, CharParam(with["quote"], "quote", true));
  }
  if (csv->delimiter != 0 && csv->delimiter == csv->quote) {
    return Bad("delimiter", "delimiter and quote must differ");
  }
  if (with["header"]) {
    DE_ASSIGN_OR_RETURN(std::string h, Scalar(with["header"], "header"));
    std::string l = absl::AsciiStrToLower(h);
    if (l == "true" || l == "yes") csv->header = true;
    else if (l == "false" || l == "no") csv->header = false;
    else if (l != "auto") return Bad("header", absl::StrCat("expected true, false or auto, got '", h, "'"));
  }
  if (with["null_values"]) {
    DE_ASSIGN_OR_RETURN(csv->null_values, StringList(with["null_values"], "null_values"));
  }
  if (with["on_error"]) {
    std::string e = with["on_error"].IsNull() ? "null" : with["on_error"].Scalar();
    if (!engine::ParseOnError(e, &csv->on_error)) {
      return Bad("on_error", absl::StrCat("'", e, "' is not one of fail, reject, null"));
    }
  }
  if (with["sample_rows"]) {
    DE_ASSIGN_OR_RETURN(csv->sample_rows, IntParam(with["sample_rows"], "sample_rows", 1));
  }
  return absl::OkStatus();
}

absl::Status ParseOutputOptions(const YAML::Node& with, AggregateParams* p) {
  if (with["format"]) {
    DE_ASSIGN_OR_RETURN(std::string f, Scalar(with["format"], "format"));
    if (!engine::ParseOutputFormat(f, &p->format)) return Bad("format", absl::StrCat("'", f, "' is not one of parquet, csv"));
  }
  if (with["compression"]) {
    DE_ASSIGN_OR_RETURN(std::string c, Scalar(with["compression"], "compression"));
    if (!engine::ParseCodec(c, &p->codec)) {
      return Bad("compression", absl::StrCat("'", c, "' is not one of snappy, zstd, gzip, none"));
    }
    if (p->format == engine::OutputFormat::kCsv) return Bad("compression", "only for format: parquet");
  }
  if (with["compression_level"]) {
    DE_ASSIGN_OR_RETURN(int64_t l, IntParam(with["compression_level"], "compression_level", 0));
    p->compression_level = static_cast<int>(std::min<int64_t>(l, 22));
  }
  if (with["partition_by"]) {
    DE_ASSIGN_OR_RETURN(p->partition_by, StringList(with["partition_by"], "partition_by"));
  }
  if (with["fsync"]) {
    DE_ASSIGN_OR_RETURN(std::string f, Scalar(with["fsync"], "fsync"));
    p->fsync = f == "true" || f == "yes";
  }
  return absl::OkStatus();
}

absl::Status ParseQueryOptions(const YAML::Node& with, AggregateParams* p) {
  if (with["group_by"]) DE_RETURN_IF_ERROR(ParseGroupBy(with["group_by"], &p->group_by));
  DE_RETURN_IF_ERROR(ParseMetrics(with["metrics"], &p->metrics));
  for (const char* key : {"filter", "having"}) {
    if (!with[key]) continue;
    DE_ASSIGN_OR_RETURN(std::string text, Scalar(with[key], key));
    auto e = engine::ParseExpr(text, key);   // syntax errors now; columns are checked at run
    if (!e.ok()) return absl::InvalidArgumentError(absl::StrCat("aggregate: ", e.status().message()));
    DE_RETURN_IF_ERROR(engine::CheckExprWithoutSchema(**e, key));
    (std::string(key) == "filter" ? p->filter : p->having) = text;
  }
  if (with["order_by"]) {
    DE_ASSIGN_OR_RETURN(p->order_by, StringList(with["order_by"], "order_by"));
  }
  if (with["limit"]) {
    DE_ASSIGN_OR_RETURN(p->limit, IntParam(with["limit"], "limit", 0));
  }
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  p->threads = static_cast<int>(std::min(2u, hw));
  if (with["threads"]) {
    DE_ASSIGN_OR_RETURN(int64_t t, IntParam(with["threads"], "threads", 0));
    p->threads = t == 0 ? static_cast<int>(hw) : static_cast<int>(std::min<int64_t>(t, 64));
  }
  if (with["max_groups"]) {
    DE_ASSIGN_OR_RETURN(p->limits.max_groups, IntParam(with["max_groups"], "max_groups", 1));
  }
  if (with["max_memory"]) {
    DE_ASSIGN_OR_RETURN(std::string s, Scalar(with["max_memory"], "max_memory"));
    auto v = ParseByteSize(s);
    if (!v.ok()) return Bad("max_memory", std::string(v.status().message()));
    p->limits.max_memory_bytes = *v;
  }
  return absl::OkStatus();
}

absl::StatusOr<AggregateParams> ParseImpl(const YAML::Node& with, const TaskContext& ctx) {
  if (!with.IsDefined() || with.IsNull() || !with.IsMap()) {
    return absl::InvalidArgumentError(
        "aggregate: parameters must be a map with input, output and metrics");
  }
  for (const auto& kv : with) {
    std::string k = kv.first.as<std::string>();
    const auto& known = KnownKeys();
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string near = engine::ClosestName(k, known);
      return absl::InvalidArgumentError(absl::StrCat(
          "aggregate: unknown parameter '", k, "'",
          near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"),
          "; known: ", absl::StrJoin(known, ", ")));
    }
  }
  for (const char* req : {"input", "output", "metrics"}) {
    if (!with[req]) return absl::InvalidArgumentError(absl::StrCat("aggregate: `", req, "` is required"));
  }
  AggregateParams p;
  auto spec = engine::ParseDatasetSpec(with["input"], "input");
  if (!spec.ok()) return absl::InvalidArgumentError(absl::StrCat("aggregate: ", spec.status().message()));
  p.input = *spec;
  DE_ASSIGN_OR_RETURN(std::string out, Scalar(with["output"], "output"));
  DE_ASSIGN_OR_RETURN(p.output, engine::ResolveOutputFolder(out, ctx.data_root));
  DE_RETURN_IF_ERROR(ParseOutputOptions(with, &p));
  DE_RETURN_IF_ERROR(ParseQueryOptions(with, &p));
  DE_RETURN_IF_ERROR(ParseCsvOptions(with, &p.csv));
  return p;
}

}  // namespace

absl::StatusOr<AggregateParams> ParseAggregateParams(const YAML::Node& with,
                                                     const TaskContext& ctx) {
  return ParseGuarded("aggregate", [&] { return ParseImpl(with, ctx); });
}

}  // namespace de::tasks
