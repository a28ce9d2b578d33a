// Parsing and validation of `aggregate`'s `with:` parameters.
#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"
#include "engine/io/paths.h"
#include "engine/ops/expr.h"
#include "worker/tasks/aggregate.h"
#include "worker/tasks/task_params.h"

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

const TaskParamReader kParams("aggregate: ");  // messages are "aggregate: <key>: ..."

absl::Status Bad(const std::string& key, const std::string& why) { return kParams.Bad(key, why); }

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
        DE_ASSIGN_OR_RETURN(k.name, kParams.Scalar(e["as"], "group_by: as"));
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
  DE_RETURN_IF_ERROR(kParams.CsvOptions(with, csv));
  if (with["on_error"]) {
    std::string e = with["on_error"].IsNull() ? "null" : with["on_error"].Scalar();
    if (!engine::ParseOnError(e, &csv->on_error)) {
      return Bad("on_error", absl::StrCat("'", e, "' is not one of fail, reject, null"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseOutputOptions(const YAML::Node& with, AggregateParams* p) {
  if (with["format"]) {
    DE_ASSIGN_OR_RETURN(std::string f, kParams.Scalar(with["format"], "format"));
    if (!engine::ParseOutputFormat(f, &p->format)) return Bad("format", absl::StrCat("'", f, "' is not one of parquet, csv"));
  }
  if (with["compression"]) {
    DE_RETURN_IF_ERROR(kParams.Codec(with["compression"], "compression", &p->codec));
    if (p->format == engine::OutputFormat::kCsv) return Bad("compression", "only for format: parquet");
  }
  if (with["compression_level"]) {
    DE_ASSIGN_OR_RETURN(int64_t l, kParams.Int(with["compression_level"], "compression_level", 0));
    p->compression_level = static_cast<int>(std::min<int64_t>(l, 22));
  }
  if (with["partition_by"]) {
    DE_ASSIGN_OR_RETURN(p->partition_by, kParams.Strings(with["partition_by"], "partition_by"));
  }
  if (with["fsync"]) {
    DE_ASSIGN_OR_RETURN(p->fsync, kParams.Flag(with["fsync"], "fsync"));
  }
  return absl::OkStatus();
}

absl::Status ParseQueryOptions(const YAML::Node& with, AggregateParams* p) {
  if (with["group_by"]) DE_RETURN_IF_ERROR(ParseGroupBy(with["group_by"], &p->group_by));
  DE_RETURN_IF_ERROR(ParseMetrics(with["metrics"], &p->metrics));
  for (const char* key : {"filter", "having"}) {
    if (!with[key]) continue;
    DE_ASSIGN_OR_RETURN(std::string text, kParams.Scalar(with[key], key));
    auto e = engine::ParseExpr(text, key);   // syntax errors now; columns are checked at run
    if (!e.ok()) return absl::InvalidArgumentError(absl::StrCat("aggregate: ", e.status().message()));
    DE_RETURN_IF_ERROR(engine::CheckExprWithoutSchema(**e, key));
    (std::string(key) == "filter" ? p->filter : p->having) = text;
  }
  if (with["order_by"]) {
    DE_ASSIGN_OR_RETURN(p->order_by, kParams.Strings(with["order_by"], "order_by"));
  }
  if (with["limit"]) {
    DE_ASSIGN_OR_RETURN(p->limit, kParams.Int(with["limit"], "limit", 0));
  }
  DE_ASSIGN_OR_RETURN(p->threads, kParams.Threads(with));
  if (with["max_groups"]) {
    DE_ASSIGN_OR_RETURN(p->limits.max_groups, kParams.Int(with["max_groups"], "max_groups", 1));
  }
  if (with["max_memory"]) {
    DE_ASSIGN_OR_RETURN(p->limits.max_memory_bytes, kParams.Size(with["max_memory"], "max_memory"));
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
  DE_ASSIGN_OR_RETURN(std::string out, kParams.Scalar(with["output"], "output"));
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
