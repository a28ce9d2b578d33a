// Parsing and validation of `csv_to_parquet`'s `with:` parameters.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/io/paths.h"
#include "worker/tasks/csv_to_parquet.h"
#include "worker/tasks/task_params.h"

namespace de::tasks {

namespace {

const TaskParamReader kParams;  // messages are "<key>: ..."

absl::StatusOr<PartitionSpec> ParsePartitionEntry(const YAML::Node& e) {
  PartitionSpec spec;
  if (e.IsScalar()) {
    spec.column = e.Scalar();
    spec.name = spec.column;
  } else if (e.IsMap()) {
    for (const auto& kv : e) {
      std::string k = kv.first.as<std::string>();
      if (k != "column" && k != "granularity" && k != "as") {
        return absl::InvalidArgumentError(absl::StrCat(
            "partition_by: unknown key '", k, "' (expected column, granularity, as)"));
      }
    }
    if (!e["column"] || !e["column"].IsScalar()) {
      return absl::InvalidArgumentError("partition_by: an entry needs `column:`");
    }
    spec.column = e["column"].Scalar();
    std::string g = e["granularity"] ? e["granularity"].as<std::string>() : "";
    if (g == "day") spec.bucket = PartitionSpec::Bucket::kDay;
    else if (g == "month") spec.bucket = PartitionSpec::Bucket::kMonth;
    else if (!g.empty() && g != "value") {
      return absl::InvalidArgumentError(absl::StrCat(
          "partition_by: granularity '", g, "' is not one of day, month"));
    }
    spec.name = spec.bucket == PartitionSpec::Bucket::kNone ? spec.column
                : absl::StrCat(spec.column, "_", g);
    if (e["as"]) spec.name = e["as"].as<std::string>();
  } else {
    return absl::InvalidArgumentError(
        "partition_by: expected column names or {column: ts, granularity: day|month}");
  }
  if (spec.column.empty() || spec.name.empty() || spec.name.find('/') != std::string::npos ||
      spec.name.find('=') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("partition_by: bad name '", spec.name, "'"));
  }
  return spec;
}

absl::Status ParsePartitionBy(const YAML::Node& n, std::vector<PartitionSpec>* out) {
  if (n.IsSequence()) {
    for (const auto& e : n) {
      DE_ASSIGN_OR_RETURN(out->emplace_back(), ParsePartitionEntry(e));
    }
  } else {
    DE_ASSIGN_OR_RETURN(out->emplace_back(), ParsePartitionEntry(n));
  }
  std::set<std::string> names;
  for (const auto& p : *out) {
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("partition_by: '", p.name, "' twice"));
    }
  }
  return absl::OkStatus();
}

// compression, file sizes, partitions and fsync.
absl::Status ParseOutputOptions(const YAML::Node& with, CsvToParquetParams* p) {
  if (with["compression"]) DE_RETURN_IF_ERROR(kParams.Codec(with["compression"], "compression", &p->codec));
  if (with["compression_level"]) {
    DE_ASSIGN_OR_RETURN(int64_t l, kParams.Int(with["compression_level"], "compression_level", 0));
    p->compression_level = static_cast<int>(std::min<int64_t>(l, 22));
  }
  if (with["target_file_size"]) {
    DE_ASSIGN_OR_RETURN(int64_t v, kParams.Size(with["target_file_size"], "target_file_size"));
    p->target_file_size = std::max<int64_t>(v, 1);
  }
  if (with["row_group_size"]) {
    DE_ASSIGN_OR_RETURN(p->row_group_rows, kParams.Int(with["row_group_size"], "row_group_size", 1));
  }
  if (with["partition_by"]) DE_RETURN_IF_ERROR(ParsePartitionBy(with["partition_by"], &p->partition_by));
  if (with["max_open_files"]) {
    DE_ASSIGN_OR_RETURN(int64_t m, kParams.Int(with["max_open_files"], "max_open_files", 1));
    p->max_open_files = static_cast<int>(std::min<int64_t>(m, 100000));
  }
  if (with["fsync"]) {
    DE_ASSIGN_OR_RETURN(p->fsync, kParams.Flag(with["fsync"], "fsync"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CsvToParquetParams> ParseParamsImpl(const YAML::Node& with, const TaskContext& ctx) {
  static const std::set<std::string> kKnown = {
      "input", "output", "compression", "compression_level", "target_file_size", "row_group_size",
      "partition_by", "schema", "delimiter", "header", "quote", "null_values", "on_error",
      "threads", "sample_rows", "max_open_files", "fsync"};
  CsvToParquetParams p;
  if (!with.IsDefined() || with.IsNull() || !with.IsMap()) {
    return absl::InvalidArgumentError("csv_to_parquet: parameters must be a map with input and output");
  }
  for (const auto& kv : with) {
    std::string k = kv.first.as<std::string>();
    if (!kKnown.count(k)) {
      return absl::InvalidArgumentError(absl::StrCat("csv_to_parquet: unknown parameter '", k,
                                                     "' (known: ", absl::StrJoin(kKnown, ", "), ")"));
    }
  }
  if (!with["input"]) return absl::InvalidArgumentError("csv_to_parquet: `input` is required");
  if (!with["output"]) return absl::InvalidArgumentError("csv_to_parquet: `output` is required");
  DE_ASSIGN_OR_RETURN(p.input, kParams.Scalar(with["input"], "input"));
  DE_ASSIGN_OR_RETURN(std::string out, kParams.Scalar(with["output"], "output"));
  DE_ASSIGN_OR_RETURN(p.output, engine::ResolveOutputFolder(out, ctx.data_root));
  DE_RETURN_IF_ERROR(ParseOutputOptions(with, &p));
  DE_RETURN_IF_ERROR(kParams.CsvOptions(with, &p.csv));
  if (with["on_error"]) {
    DE_ASSIGN_OR_RETURN(std::string e, kParams.Scalar(with["on_error"], "on_error"));
    if (!engine::ParseOnError(e, &p.csv.on_error)) {
      return kParams.Bad("on_error", absl::StrCat("'", e, "' is not one of reject, null, fail"));
    }
  }
  DE_ASSIGN_OR_RETURN(p.threads, kParams.Threads(with));
  DE_ASSIGN_OR_RETURN(p.input_files, engine::ListInputFiles(p.input, ctx.data_root,
                                                            engine::LooksLikeCsvName, "CSV files"));
  DE_RETURN_IF_ERROR(engine::CheckOutputApart(p.output, p.input_files));
  return p;
}

}  // namespace

absl::StatusOr<CsvToParquetParams> ParseCsvToParquetParams(const YAML::Node& with,
                                                           const TaskContext& ctx) {
  return ParseGuarded("csv_to_parquet", [&] { return ParseParamsImpl(with, ctx); });
}

}  // namespace de::tasks
