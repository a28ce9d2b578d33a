#include "worker/tasks/csv_to_parquet.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/io/input_stream.h"
#include "engine/io/json.h"
#include "engine/io/output_commit.h"
#include "worker/tasks/csv_to_parquet_lanes.h"

namespace de::tasks {

namespace fs = std::filesystem;
using engine::Type;
using c2p::Lane;
using c2p::Shared;

namespace {

// The format of the first non-empty file (no schema when every file is empty).
absl::StatusOr<engine::CsvFormat> SniffFormat(const CsvToParquetParams& params) {
  engine::CsvFormat format;
  bool sniffed = false;
  for (const auto& f : params.input_files) {
    DE_ASSIGN_OR_RETURN(auto in, engine::OpenInputStream(f));
    bool whole = false;
    DE_ASSIGN_OR_RETURN(std::string sample,
                        engine::ReadCsvSample(in.get(), params.csv.sample_bytes, &whole));
    if (sample.empty() && whole) continue;
    DE_ASSIGN_OR_RETURN(format, engine::SniffCsv(sample, whole, params.csv, f));
    sniffed = true;
    break;
  }
  if (!sniffed) format.schema.clear();
  for (auto& field : format.schema) field.nullable = true;
  return format;
}

// The schema column of each partition spec, and the columns (and schema) the files get.
absl::Status PlanColumns(const CsvToParquetParams& params, const engine::CsvFormat& format,
                         Shared* sh) {
  std::set<int> plain_part;
  for (const PartitionSpec& spec : params.partition_by) {
    int idx = -1;
    for (size_t c = 0; c < format.schema.size(); ++c) {
      if (format.schema[c].name == spec.column) idx = static_cast<int>(c);
    }
    if (idx < 0 && !format.schema.empty()) {
      std::vector<std::string> names;
      for (const auto& f : format.schema) names.push_back(f.name);
      return absl::InvalidArgumentError(absl::StrCat("partition_by: no column '", spec.column,
                                                     "' (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    if (idx >= 0 && spec.bucket != PartitionSpec::Bucket::kNone &&
        format.schema[idx].type != Type::kDate && format.schema[idx].type != Type::kTimestamp) {
      return absl::InvalidArgumentError(absl::StrCat(
          "partition_by: column '", spec.column, "' is ", engine::TypeName(format.schema[idx].type),
          "; a day/month bucket needs a date or timestamp column (set schema: {", spec.column,
          ": timestamp})"));
    }
    sh->part_cols.push_back(idx);
    if (spec.bucket == PartitionSpec::Bucket::kNone) plain_part.insert(idx);
  }
  for (size_t c = 0; c < format.schema.size(); ++c) {
    if (plain_part.count(static_cast<int>(c))) continue;
    sh->out_cols.push_back(static_cast<int>(c));
    sh->out_schema.push_back(format.schema[c]);
  }
  if (!format.schema.empty() && sh->out_schema.empty()) {
    return absl::InvalidArgumentError("partition_by: every column is a partition column; nothing "
                                      "is left to write into the files");
  }
  return absl::OkStatus();
}

// Lanes and writer options: memory stays bounded by row-group buffers per open file.
void ConfigureWriters(const CsvToParquetParams& params, Shared* sh) {
  sh->lanes = std::max(1, params.threads);
  auto& o = sh->writer_options;
  o.codec = params.codec;
  o.compression_level = params.compression_level;
  o.row_group_rows = params.row_group_rows;
  if (params.partition_by.empty()) {
    sh->max_open_per_lane = 1;
    o.row_group_bytes = std::clamp<int64_t>((192ll << 20) / sh->lanes, 16ll << 20, 128ll << 20);
  } else {
    sh->max_open_per_lane = std::max(1, params.max_open_files / sh->lanes);
    int64_t per = (192ll << 20) / (sh->max_open_per_lane * sh->lanes);
    o.row_group_bytes = std::clamp<int64_t>(per, 512ll << 10, 64ll << 20);
    o.page_bytes = std::min<int64_t>(o.page_bytes, std::max<int64_t>(64 << 10, per / 4));
  }
  o.row_group_bytes = std::min(o.row_group_bytes, params.target_file_size);
  o.key_value_metadata["de.task"] = "csv_to_parquet";
}

void LogFormat(const CsvToParquetParams& params, const engine::CsvFormat& format,
               const TaskContext& ctx) {
  std::vector<std::string> schema_desc;
  for (const auto& f : format.schema) {
    schema_desc.push_back(absl::StrCat(f.name, " ", engine::TypeName(f.type)));
  }
  ctx.log(absl::StrCat("csv_to_parquet: ", params.input_files.size(), " input file(s); delimiter '",
                       format.delimiter == '\t' ? std::string("\\t") : std::string(1, format.delimiter),
                       "', header ", format.header ? "yes" : "no", "; schema: ",
                       absl::StrJoin(schema_desc, ", ")));
}

// What the lanes wrote, sorted by path; an input with a schema but no rows still gets one
// (empty) file.
absl::StatusOr<std::vector<engine::OutputFile>> CollectFiles(
    const Shared& sh, std::vector<std::unique_ptr<Lane>>* lanes, engine::CsvParseStats* stats) {
  std::vector<engine::OutputFile> files;
  for (auto& lane : *lanes) {
    for (auto& f : lane->files()) files.push_back(std::move(f));
    stats->rows_in += lane->stats().rows_in;
    stats->rows_out += lane->stats().rows_out;
    stats->rows_rejected += lane->stats().rows_rejected;
    stats->values_nulled += lane->stats().values_nulled;
  }
  if (files.empty() && !sh.out_schema.empty() && sh.params->partition_by.empty()) {
    const fs::path tmp(sh.tmp_dir);
    std::string rel = "part-00000.parquet";
    DE_ASSIGN_OR_RETURN(auto w, engine::ParquetWriter::Open((tmp / rel).string(), sh.out_schema,
                                                          sh.writer_options));
    DE_RETURN_IF_ERROR(w->Close());
    std::error_code ec;
    files.push_back({rel, 0, static_cast<int64_t>(fs::file_size(tmp / rel, ec))});
  }
  std::sort(files.begin(), files.end(), [](const engine::OutputFile& a,
                                           const engine::OutputFile& b) {
    return a.rel_path < b.rel_path;
  });
  return files;
}

// Everything a finished run reports.
struct RunTotals {
  engine::CsvParseStats stats;
  std::vector<engine::OutputFile> files;
  int64_t bytes = 0;
  int64_t csv_bytes = 0;
  bool have_rejects = false;
  double seconds = 0;
};

TaskOutcome MakeOutcome(const CsvToParquetParams& params, const engine::CsvFormat& format,
                        const Shared& sh, const RunTotals& t, const TaskContext& ctx) {
  const fs::path out(params.output);
  std::error_code ec;
  int64_t input_bytes = 0;
  for (const auto& f : params.input_files) input_bytes += static_cast<int64_t>(fs::file_size(f, ec));
  const engine::CsvParseStats& stats = t.stats;
  TaskOutcome outcome;
  outcome.counters = {{"rows_in", stats.rows_in},
                      {"rows_out", stats.rows_out},
                      {"rows_rejected", stats.rows_rejected},
                      {"values_nulled", stats.values_nulled},
                      {"files", static_cast<int64_t>(t.files.size())},
                      {"bytes", t.bytes},
                      {"input_files", static_cast<int64_t>(params.input_files.size())},
                      {"input_bytes", input_bytes},
                      {"csv_bytes", t.csv_bytes}};
  outcome.outputs.push_back(out.string());
  outcome.summary_json = absl::StrCat(
      "{\"output\":", engine::JsonString(out.string()), ",\"rows_in\":", stats.rows_in,
      ",\"rows_out\":", stats.rows_out, ",\"rows_rejected\":", stats.rows_rejected,
      ",\"values_nulled\":", stats.values_nulled, ",\"files\":", t.files.size(),
      ",\"bytes\":", t.bytes, ",\"input_bytes\":", input_bytes, ",\"csv_bytes\":", t.csv_bytes,
      ",\"seconds\":", absl::StrFormat("%.3f", t.seconds), ",\"codec\":\"",
      engine::CodecName(params.codec), "\",\"threads\":", sh.lanes, ",\"rejects_file\":",
      t.have_rejects ? engine::JsonString((out / "_rejects.csv").string()) : "null",
      ",\"delimiter\":", engine::JsonString(std::string(1, format.delimiter)),
      ",\"header\":", format.header ? "true" : "false", ",\"schema\":", engine::SchemaJson(format.schema),
      "}");
  ctx.log(absl::StrCat("csv_to_parquet: ", stats.rows_in, " rows in, ", stats.rows_out, " out, ",
                       stats.rows_rejected, " rejected; ", t.files.size(), " file(s), ", t.bytes,
                       " bytes in ", absl::StrFormat("%.2f", t.seconds), " s"));
  return outcome;
}

absl::StatusOr<TaskOutcome> Run(const CsvToParquetParams& params, const TaskContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  // The output folder first: this also restores an output a crash left renamed aside, even when
  // this run then fails.
  DE_ASSIGN_OR_RETURN(auto commit, engine::OutputCommit::Begin(params.output));
  DE_ASSIGN_OR_RETURN(engine::CsvFormat format, SniffFormat(params));
  Shared sh;
  sh.params = &params;
  sh.format = &format;
  sh.ctx = &ctx;
  DE_RETURN_IF_ERROR(PlanColumns(params, format, &sh));
  LogFormat(params, format, ctx);
  const fs::path tmp = commit->tmp_dir();  // next to the output
  sh.tmp_dir = tmp.string();
  engine::RejectsWriter rejects((tmp / "_rejects.csv").string());
  sh.rejects = &rejects;
  ConfigureWriters(params, &sh);

  // Reader -> lanes (parse + encode), chunk i to lane i % lanes (deterministic).
  std::vector<std::unique_ptr<Lane>> lanes;
  for (int i = 0; i < sh.lanes; ++i) lanes.push_back(std::make_unique<Lane>(i, &sh));
  // Small target files need small chunks: files rotate between batches.
  engine::CsvReadOptions read_options = params.csv;
  read_options.chunk_bytes = static_cast<size_t>(std::max<int64_t>(
      64 << 10, std::min<int64_t>(params.target_file_size / 4, read_options.chunk_bytes)));
  c2p::ChunkSource source(params.input_files, read_options, format.quote, sh.lanes == 1);
  if (!format.schema.empty()) c2p::RunLanes(&sh, &source, &lanes);
  if (ctx.cancelled && ctx.cancelled->load()) sh.Fail(absl::CancelledError("csv_to_parquet: cancelled"));
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    if (!sh.error.ok()) return sh.error;
  }
  DE_RETURN_IF_ERROR(rejects.Close());

  RunTotals t;
  DE_ASSIGN_OR_RETURN(t.files, CollectFiles(sh, &lanes, &t.stats));
  for (const auto& f : t.files) t.bytes += f.bytes;
  std::error_code ec;
  t.have_rejects = fs::exists(tmp / "_rejects.csv", ec);
  t.csv_bytes = source.csv_bytes();

  // Manifest, then swap into place.
  engine::Manifest manifest;
  manifest.codec = engine::CodecName(params.codec);
  manifest.rows = t.stats.rows_out;
  manifest.files = t.files;
  manifest.schema = sh.out_schema;
  for (const auto& p : params.partition_by) manifest.partition_by.push_back(p.name);
  manifest.rows_in = t.stats.rows_in;
  manifest.rows_rejected = t.stats.rows_rejected;
  manifest.has_rejects = t.have_rejects;
  manifest.created_by = "de csv_to_parquet";
  DE_RETURN_IF_ERROR(commit->Commit(manifest, params.fsync));
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return MakeOutcome(params, format, sh, t, ctx);
}

}  // namespace

absl::StatusOr<TaskOutcome> RunCsvToParquet(const YAML::Node& with, const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(CsvToParquetParams params, ParseCsvToParquetParams(with, ctx));
  return RunGuarded("csv_to_parquet", [&] { return Run(params, ctx); });
}

}  // namespace de::tasks
