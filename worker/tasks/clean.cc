#include "worker/tasks/clean.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"
#include "engine/io/input_stream.h"
#include "engine/io/json.h"
#include "engine/io/output_commit.h"
#include "engine/io/paths.h"
#include "engine/io/source.h"
#include "engine/ops/expr.h"
#include "worker/tasks/task_params.h"

namespace de::tasks {

namespace fs = std::filesystem;
using engine::Type;

namespace {

const TaskParamReader kParams;  // messages are "<key>: ..."

absl::StatusOr<CleanParams> ParseImpl(const YAML::Node& with, const TaskContext& ctx) {
  static const std::set<std::string> kTaskKeys = {
      "input", "output", "format", "compression", "compression_level", "target_file_size",
      "row_group_size", "schema", "delimiter", "header", "quote", "null_values", "threads",
      "sample_rows", "fsync"};
  if (!with.IsDefined() || with.IsNull() || !with.IsMap()) {
    return absl::InvalidArgumentError("clean: parameters must be a map with input and output");
  }
  std::set<std::string> known = kTaskKeys;
  for (const auto& k : engine::CleanSpecKeys()) known.insert(k);
  for (const auto& kv : with) {
    std::string k = kv.first.as<std::string>();
    if (!known.count(k)) {
      return absl::InvalidArgumentError(absl::StrCat("clean: unknown parameter '", k, "' (known: ",
                                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  if (!with["input"]) return absl::InvalidArgumentError("clean: `input` is required");
  if (!with["output"]) return absl::InvalidArgumentError("clean: `output` is required");
  CleanParams p;
  DE_ASSIGN_OR_RETURN(p.input, engine::ParseDatasetSpec(with["input"], "input"));
  DE_ASSIGN_OR_RETURN(std::string out, kParams.Scalar(with["output"], "output"));
  DE_ASSIGN_OR_RETURN(p.output, engine::ResolveOutputFolder(out, ctx.data_root));
  if (with["format"]) {
    DE_ASSIGN_OR_RETURN(std::string f, kParams.Scalar(with["format"], "format"));
    if (!engine::ParseOutputFormat(f, &p.sink.format)) {
      return absl::InvalidArgumentError(absl::StrCat("format: '", f, "' is not one of parquet, csv"));
    }
  }
  if (with["compression"]) {
    DE_RETURN_IF_ERROR(kParams.Codec(with["compression"], "compression", &p.sink.parquet.codec));
  }
  if (with["compression_level"]) {
    DE_ASSIGN_OR_RETURN(int64_t l, kParams.Int(with["compression_level"], "compression_level", 0));
    p.sink.parquet.compression_level = static_cast<int>(std::min<int64_t>(l, 22));
  }
  if (with["target_file_size"]) {
    DE_ASSIGN_OR_RETURN(int64_t v, kParams.Size(with["target_file_size"], "target_file_size"));
    p.sink.target_file_size = std::max<int64_t>(v, 1);
  }
  if (with["row_group_size"]) {
    DE_ASSIGN_OR_RETURN(p.sink.parquet.row_group_rows,
                        kParams.Int(with["row_group_size"], "row_group_size", 1));
  }
  DE_RETURN_IF_ERROR(kParams.CsvOptions(with, &p.csv));
  DE_ASSIGN_OR_RETURN(p.threads, kParams.Threads(with));
  if (with["fsync"]) {
    DE_ASSIGN_OR_RETURN(p.fsync, kParams.Flag(with["fsync"], "fsync"));
  }
  DE_ASSIGN_OR_RETURN(p.spec, engine::ParseCleanSpec(with));
  // The CSV reader treats a value that does not fit its column like a cast does.
  p.csv.on_error = p.spec.on_error;
  if (!p.spec.filter.empty()) {
    DE_ASSIGN_OR_RETURN(auto expr, engine::ParseExpr(p.spec.filter, "filter"));
    DE_RETURN_IF_ERROR(engine::CheckExprWithoutSchema(*expr, "filter"));
  }
  return p;
}

// Everything the threads of one run share.
struct Shared {
  const CleanParams* params = nullptr;
  const TaskContext* ctx = nullptr;
  engine::TableSource* source = nullptr;
  engine::TableSink* sink = nullptr;              // null in the collect pass
  engine::RejectsWriter* rejects = nullptr;
  engine::CleanRun* run = nullptr;
  bool parquet_input = false;
  bool csv_header = true;                         // CSV files start with a header line
  std::mutex mu;
  absl::Status error;                             // guarded by mu
  engine::CleanCounters counters;                 // guarded by mu
  int64_t csv_rejected = 0;                       // guarded by mu
  std::atomic<bool> stop{false};

  void Fail(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(s);
    stop = true;
  }
  bool cancelled() const {
    return stop.load(std::memory_order_relaxed) ||
           (ctx->cancelled && ctx->cancelled->load(std::memory_order_relaxed));
  }
};

absl::Status Lane(Shared* sh) {
  engine::CleanWorker worker(sh->run);
  std::unique_ptr<engine::TableSink::Writer> writer;
  if (sh->sink) writer = sh->sink->NewWriter();
  const auto& out_cols = sh->run->plan().output_columns();
  engine::Morsel m;
  engine::Batch out;
  out.columns.resize(out_cols.size());
  engine::Selection sel;
  std::vector<engine::CsvReject> rejects;
  int64_t csv_rejected = 0;
  while (!sh->cancelled()) {
    DE_ASSIGN_OR_RETURN(bool more, sh->source->Next(&m));
    if (!more) break;
    if (!m.rejects.empty()) {
      csv_rejected += static_cast<int64_t>(m.rejects.size());
      if (sh->sink) DE_RETURN_IF_ERROR(sh->rejects->Write(m.source, m.rejects));
    }
    if (m.batch.num_rows == 0) continue;
    rejects.clear();
    // Rejects and errors name CSV lines, or 1-based Parquet row numbers.
    const int64_t first_row = sh->parquet_input                          ? m.first_row + 1
                              : (m.first_row == 1 && sh->csv_header) ? 2
                                                                     : m.first_row;
    const uint64_t position = (static_cast<uint64_t>(m.file_index) << 40) +
                              static_cast<uint64_t>(m.first_row);
    DE_RETURN_IF_ERROR(worker.Process(&m.batch, m.source, first_row, position, &sel, &rejects));
    if (!rejects.empty() && sh->sink) DE_RETURN_IF_ERROR(sh->rejects->Write(m.source, rejects));
    if (!writer || sel.empty()) continue;
    // Project by swapping the written columns out and back (no copies).
    for (size_t i = 0; i < out_cols.size(); ++i) std::swap(out.columns[i], m.batch.columns[out_cols[i]]);
    out.num_rows = m.batch.num_rows;
    absl::Status st = writer->Write(out, sel);
    for (size_t i = 0; i < out_cols.size(); ++i) std::swap(out.columns[i], m.batch.columns[out_cols[i]]);
    DE_RETURN_IF_ERROR(st);
  }
  if (writer && !sh->stop) DE_RETURN_IF_ERROR(writer->Close());
  std::lock_guard<std::mutex> lock(sh->mu);
  sh->counters.Add(worker.counters());
  sh->csv_rejected += csv_rejected;
  return absl::OkStatus();
}

absl::Status RunLanes(Shared* sh, int threads) {
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) {
    pool.emplace_back([sh] {
      absl::Status st = Lane(sh);
      if (!st.ok()) sh->Fail(st);
    });
  }
  absl::Status st = Lane(sh);
  if (!st.ok()) sh->Fail(st);
  for (auto& t : pool) t.join();
  if (sh->ctx->cancelled && sh->ctx->cancelled->load()) {
    sh->Fail(absl::CancelledError("clean: cancelled"));
  }
  std::lock_guard<std::mutex> lock(sh->mu);
  return sh->error;
}

// Whether the CSV files start with a header (as the source decides it), for line numbers.
absl::StatusOr<bool> CsvHasHeader(const engine::ResolvedDataset& dataset,
                                  const engine::CsvReadOptions& csv) {
  if (csv.header) return *csv.header;
  for (const auto& f : dataset.files) {
    DE_ASSIGN_OR_RETURN(auto in, engine::OpenInputStream(f.path));
    bool whole = false;
    DE_ASSIGN_OR_RETURN(std::string sample, engine::ReadCsvSample(in.get(), 1 << 16, &whole));
    if (sample.empty() && whole) continue;
    engine::CsvReadOptions o = csv;
    o.sample_rows = 200;
    DE_ASSIGN_OR_RETURN(engine::CsvFormat format, engine::SniffCsv(sample, whole, o, f.path));
    return format.header;
  }
  return true;
}

std::string ReasonsJson(const std::map<std::string, int64_t>& m) {
  std::string s = "{";
  for (const auto& [k, v] : m) {
    if (s.size() > 1) s += ",";
    absl::StrAppend(&s, engine::JsonString(k), ":", v);
  }
  return s + "}";
}

absl::StatusOr<TaskOutcome> Run(const CleanParams& params, const TaskContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  // 1. Input: resolve the dataset; read only the columns the steps need.
  DE_ASSIGN_OR_RETURN(engine::ResolvedDataset dataset,
                      engine::ResolveDataset(params.input, ctx.data_root));
  for (const auto& line : dataset.log) ctx.log(absl::StrCat("clean: ", line));
  std::vector<std::string> input_paths;
  for (const auto& f : dataset.files) input_paths.push_back(f.path);
  DE_RETURN_IF_ERROR(engine::CheckOutputApart(params.output, input_paths));
  engine::SourceOptions source_options;
  source_options.csv = params.csv;
  DE_ASSIGN_OR_RETURN(auto source, engine::TableSource::Open(dataset, source_options));
  std::shared_ptr<const engine::Expr> expr;
  std::vector<std::string> filter_columns;
  if (!params.spec.filter.empty()) {
    DE_ASSIGN_OR_RETURN(expr, engine::ParseExpr(params.spec.filter, "filter"));
    filter_columns = engine::ReferencedColumns(*expr);
  }
  DE_ASSIGN_OR_RETURN(engine::CleanPlan plan,
                      engine::CleanPlan::Create(params.spec, source->schema(), filter_columns));
  if (plan.InputColumns().size() < source->schema().size()) {
    source_options.columns = plan.InputColumns();
    DE_ASSIGN_OR_RETURN(source, engine::TableSource::Open(dataset, source_options));
    DE_ASSIGN_OR_RETURN(plan, plan.Narrow(source->schema()));
  }
  std::unique_ptr<engine::BoundExpr> filter, prune;
  if (expr) {
    DE_ASSIGN_OR_RETURN(filter, engine::BoundExpr::Bind(expr, plan.filter_schema(), "filter"));
    // Row groups can be skipped on statistics only when the filtered columns reach the filter
    // unchanged (no rename, text step or cast).
    bool unchanged = params.spec.rename.empty();
    for (const auto& name : filter_columns) {
      for (size_t i = 0; i < plan.filter_schema().size(); ++i) {
        const auto& s = plan.steps()[i];
        if (plan.filter_schema()[i].name == name &&
            (s.trim || s.null_if || s.lower || s.upper || s.cast)) {
          unchanged = false;
        }
      }
    }
    if (unchanged) {
      auto p = engine::BoundExpr::Bind(expr, source->schema(), "filter");
      if (p.ok()) prune = std::move(*p);
    }
  }
  std::unique_ptr<engine::CheckRunner> checks;
  if (!params.spec.checks.empty()) {
    DE_ASSIGN_OR_RETURN(checks, engine::CheckRunner::Create(params.spec.checks, plan.filter_schema()));
  }
  ctx.log(absl::StrCat("clean: ", dataset.files.size(), " ",
                       dataset.format == engine::FileFormat::kParquet ? "Parquet" : "CSV",
                       " file(s); reading ", source->schema().size(), " column(s); writing ",
                       engine::SchemaJson(plan.output_schema())));

  // 2. Output: temporary folder, rejects, sink.
  DE_ASSIGN_OR_RETURN(auto commit, engine::OutputCommit::Begin(params.output));
  const fs::path tmp = commit->tmp_dir();
  engine::RejectsWriter rejects((tmp / "_rejects.csv").string());
  engine::SinkOptions sink_options = params.sink;
  sink_options.parquet.key_value_metadata["de.task"] = "clean";
  sink_options.parquet.row_group_bytes = std::clamp<int64_t>(
      (192ll << 20) / std::max(1, params.threads), 16ll << 20, 128ll << 20);
  DE_ASSIGN_OR_RETURN(auto sink, engine::TableSink::Open(tmp.string(), plan.output_schema(),
                                                         sink_options));

  // 3. Run (two passes for dedupe keep: last, or keep: first on several threads).
  engine::CleanRun run(&plan, filter.get(), checks.get(), params.threads);
  Shared sh;
  sh.params = &params;
  sh.ctx = &ctx;
  sh.rejects = &rejects;
  sh.run = &run;
  sh.parquet_input = dataset.format == engine::FileFormat::kParquet;
  if (!sh.parquet_input) {
    DE_ASSIGN_OR_RETURN(sh.csv_header, CsvHasHeader(dataset, params.csv));
  }
  if (prune) source->SetPrune(prune.get());
  if (run.two_pass()) {
    sh.source = source.get();
    DE_RETURN_IF_ERROR(RunLanes(&sh, params.threads));
    ctx.log(absl::StrCat("clean: dedupe pass 1: ", run.key_positions().size(), " distinct key(s)"));
    sh.counters = {};
    sh.csv_rejected = 0;
    run.set_pass(engine::CleanRun::Pass::kEmit);
    DE_ASSIGN_OR_RETURN(source, engine::TableSource::Open(dataset, source_options));
    if (prune) source->SetPrune(prune.get());
  }
  sh.source = source.get();
  sh.sink = sink.get();
  DE_RETURN_IF_ERROR(RunLanes(&sh, params.threads));
  DE_RETURN_IF_ERROR(rejects.Close());
  DE_ASSIGN_OR_RETURN(std::vector<engine::OutputFile> files, sink->Finish());

  // 4. Checks: a failing check of severity error commits nothing.
  engine::CleanCounters& c = sh.counters;
  if (sh.csv_rejected > 0) {
    c.rows_in += sh.csv_rejected;
    c.rows_rejected += sh.csv_rejected;
    c.rejected_by_reason["unreadable CSV row"] += sh.csv_rejected;
  }
  std::vector<engine::CheckResult> results;
  if (checks) results = checks->Finish(c.rows_out);
  std::vector<std::string> failed, warned;
  for (const auto& r : results) {
    if (r.passed) continue;
    std::string line = absl::StrCat(r.name, ": ", r.detail);
    (r.severity == engine::Severity::kError ? failed : warned).push_back(line);
  }
  for (const auto& w : warned) ctx.log(absl::StrCat("clean: check failed (warn): ", w));
  const std::string checks_json = engine::CheckResultsJson(results);
  if (!failed.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "clean: ", failed.size(), " check(s) failed, nothing was written: ",
        absl::StrJoin(failed, "; ")));
  }

  // 5. Manifest and swap.
  std::error_code ec;
  int64_t bytes = 0;
  for (const auto& f : files) bytes += f.bytes;
  const bool have_rejects = fs::exists(tmp / "_rejects.csv", ec);
  const std::string extra = absl::StrCat(
      "\"rows_filtered\":", c.rows_filtered, ",\"rows_deduped\":", c.rows_deduped,
      ",\"rejected_by_reason\":", ReasonsJson(c.rejected_by_reason), ",\"checks\":", checks_json);
  engine::Manifest manifest;
  manifest.format = params.sink.format == engine::OutputFormat::kCsv ? "csv" : "parquet";
  manifest.codec = params.sink.format == engine::OutputFormat::kCsv
                       ? "" : engine::CodecName(params.sink.parquet.codec);
  manifest.rows = c.rows_out;
  manifest.files = files;
  manifest.schema = plan.output_schema();
  manifest.rows_in = c.rows_in;
  manifest.rows_rejected = c.rows_rejected;
  manifest.has_rejects = have_rejects;
  manifest.created_by = "de clean";
  manifest.extra_json = extra;
  DE_RETURN_IF_ERROR(commit->Commit(manifest, params.fsync));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TaskOutcome outcome;
  outcome.counters = {{"rows_in", c.rows_in},
                      {"rows_out", c.rows_out},
                      {"rows_filtered", c.rows_filtered},
                      {"rows_deduped", c.rows_deduped},
                      {"rows_rejected", c.rows_rejected},
                      {"values_nulled", c.values_nulled + c.values_cast_nulled},
                      {"values_repaired", c.values_repaired},
                      {"files", static_cast<int64_t>(files.size())},
                      {"bytes", bytes},
                      {"input_files", static_cast<int64_t>(dataset.files.size())},
                      {"input_bytes", source->input_bytes()},
                      {"row_groups_skipped", source->row_groups_skipped()}};
  for (const auto& [k, v] : c.rejected_by_reason) outcome.counters["rejected: " + k] = v;
  for (const auto& r : results) outcome.counters["check: " + r.name] = r.failing_rows;
  outcome.outputs.push_back(params.output);
  outcome.summary_json = absl::StrCat(
      "{\"output\":", engine::JsonString(params.output), ",\"rows_in\":", c.rows_in,
      ",\"rows_out\":", c.rows_out, ",\"rows_rejected\":", c.rows_rejected, ",", extra,
      ",\"values_nulled\":", c.values_nulled, ",\"values_cast_nulled\":", c.values_cast_nulled,
      ",\"values_repaired\":", c.values_repaired, ",\"files\":", files.size(),
      ",\"bytes\":", bytes, ",\"seconds\":", absl::StrFormat("%.3f", seconds),
      ",\"threads\":", params.threads, ",\"rejects_file\":",
      have_rejects ? engine::JsonString((fs::path(params.output) / "_rejects.csv").string()) : "null",
      ",\"schema\":", engine::SchemaJson(plan.output_schema()), "}");
  ctx.log(absl::StrCat("clean: ", c.rows_in, " rows in, ", c.rows_out, " out, ", c.rows_filtered,
                       " filtered, ", c.rows_deduped, " deduplicated, ", c.rows_rejected,
                       " rejected; ", files.size(), " file(s), ", bytes, " bytes in ",
                       absl::StrFormat("%.2f", seconds), " s"));
  for (const auto& [k, v] : c.rejected_by_reason) ctx.log(absl::StrCat("clean:   rejected ", v, ": ", k));
  for (const auto& r : results) {
    ctx.log(absl::StrCat("clean:   check ", r.name, ": ",
                         r.passed ? "passed" : "failed (severity warn)", " (", r.detail, ")"));
  }
  return outcome;
}

}  // namespace

absl::StatusOr<CleanParams> ParseCleanParams(const YAML::Node& with, const TaskContext& ctx) {
  return ParseGuarded("clean", [&] { return ParseImpl(with, ctx); });
}

absl::StatusOr<TaskOutcome> RunClean(const YAML::Node& with, const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(CleanParams params, ParseCleanParams(with, ctx));
  return RunGuarded("clean", [&] { return Run(params, ctx); });
}

}  // namespace de::tasks
