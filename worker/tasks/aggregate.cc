#include "worker/tasks/aggregate.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/io/json.h"
#include "engine/io/output_commit.h"
#include "engine/io/paths.h"
#include "engine/io/source.h"
#include "engine/ops/expr.h"
#include "engine/ops/sort_rows.h"

namespace de::tasks {

namespace fs = std::filesystem;
using engine::Batch;
using engine::Selection;

namespace {

// State shared by the threads of one run.
struct Shared {
  const TaskContext* ctx = nullptr;
  engine::TableSource* source = nullptr;
  const engine::BoundExpr* filter = nullptr;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> rows_in{0}, rows_selected{0}, rows_rejected{0};
  std::mutex mu;
  absl::Status error;            // first error, guarded by mu
  std::vector<std::string> reject_samples;   // guarded by mu

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

// One thread: pulls morsels, filters, and updates its own partial table.
void Work(Shared* sh, engine::HashAggregate* table) {
  engine::Morsel m;
  while (!sh->cancelled()) {
    auto more = sh->source->Next(&m);
    if (!more.ok()) return sh->Fail(more.status());
    if (!*more) return;
    sh->rows_in += static_cast<int64_t>(m.batch.num_rows) + m.stats.rows_rejected;
    if (!m.rejects.empty()) {
      sh->rows_rejected += static_cast<int64_t>(m.rejects.size());
      std::lock_guard<std::mutex> lock(sh->mu);
      for (const auto& r : m.rejects) {
        if (sh->reject_samples.size() >= 5) break;
        sh->reject_samples.push_back(absl::StrCat(m.source, ":", r.line, ": ", r.reason));
      }
    }
    Selection sel = Selection::All(m.batch.num_rows);
    if (sh->filter != nullptr) {
      absl::Status st = sh->filter->Filter(m.batch, &sel);
      if (!st.ok()) return sh->Fail(st);
    }
    sh->rows_selected += static_cast<int64_t>(sel.size());
    absl::Status st = table->Consume(m.batch, sel);
    if (!st.ok()) return sh->Fail(st);
  }
}

// The input columns the query reads, in order of first mention.
std::vector<std::string> NeededColumns(const AggregateParams& p, const engine::Expr* filter) {
  std::vector<std::string> cols;
  auto add = [&](const std::string& c) {
    if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
  };
  for (const auto& k : p.group_by) add(k.column);
  for (const auto& m : p.metrics) {
    if (!m.call.star) add(m.call.column);
  }
  if (filter != nullptr) {
    for (const auto& c : engine::ReferencedColumns(*filter)) add(c);
  }
  return cols;
}

// having -> order_by (default: the group keys) -> limit, on the merged result.
absl::StatusOr<Batch> Shape(const AggregateParams& p, const engine::AggregatePlan& plan,
                            Batch result) {
  const engine::Schema& schema = plan.output_schema;
  Selection sel = Selection::All(result.num_rows);
  if (!p.having.empty()) {
    DE_ASSIGN_OR_RETURN(auto expr, engine::ParseExpr(p.having, "having"));
    DE_ASSIGN_OR_RETURN(auto bound, engine::BoundExpr::Bind(expr, schema, "having"));
    DE_RETURN_IF_ERROR(bound->Filter(result, &sel));
  }
  std::vector<uint32_t> rows(sel.size());
  for (size_t i = 0; i < sel.size(); ++i) rows[i] = sel[i];
  std::vector<engine::SortKey> keys;
  for (const auto& o : p.order_by) {
    DE_ASSIGN_OR_RETURN(engine::SortKey k, engine::ParseSortKey(o, schema));
    keys.push_back(k);
  }
  if (p.order_by.empty()) {
    for (size_t k = 0; k < plan.key_inputs.size(); ++k) keys.push_back({static_cast<int>(k), false});
  }
  if (p.limit) engine::TopRows(result, keys, static_cast<size_t>(*p.limit), &rows);
  else engine::SortRows(result, keys, &rows);
  Batch out;
  engine::Gather(result, Selection::Of(std::move(rows)), &out);
  return out;
}

absl::StatusOr<std::vector<engine::OutputFile>> Write(const AggregateParams& p,
                                                      const engine::Schema& schema,
                                                      const Batch& batch, const fs::path& dir,
                                                      engine::Schema* file_schema) {
  engine::SinkOptions so;
  so.format = p.format;
  so.parquet.codec = p.codec;
  so.parquet.compression_level = p.compression_level;
  so.parquet.key_value_metadata["de.task"] = "aggregate";
  so.partition_by = p.partition_by;
  DE_ASSIGN_OR_RETURN(auto sink, engine::TableSink::Open(dir.string(), schema, so));
  auto writer = sink->NewWriter();
  DE_RETURN_IF_ERROR(writer->Write(batch, Selection::All(batch.num_rows)));
  DE_RETURN_IF_ERROR(writer->Close());
  *file_schema = sink->file_schema();
  return sink->Finish();
}

// Reads the input on `threads` threads into partial tables and merges them.
absl::StatusOr<Batch> Aggregate(Shared* sh, std::shared_ptr<const engine::AggregatePlan> plan,
                                int threads) {
  std::vector<std::unique_ptr<engine::HashAggregate>> tables;
  for (int i = 0; i < threads; ++i) tables.push_back(std::make_unique<engine::HashAggregate>(plan));
  if (threads == 1) {
    Work(sh, tables[0].get());
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(Work, sh, tables[i].get());
    for (auto& t : pool) t.join();
  }
  if (sh->ctx->cancelled && sh->ctx->cancelled->load()) {
    sh->Fail(absl::CancelledError("aggregate: cancelled"));
  }
  {
    std::lock_guard<std::mutex> lock(sh->mu);
    if (!sh->error.ok()) return sh->error;
  }
  for (int i = 1; i < threads; ++i) {
    DE_RETURN_IF_ERROR(tables[0]->Merge(*tables[i]));
    tables[i].reset();
  }
  return tables[0]->Finish();
}

std::string SummaryJson(const AggregateParams& p, const std::string& out, int64_t rows_in,
                        int64_t rows_out, int64_t skipped, size_t files, int64_t bytes,
                        int64_t input_bytes, double seconds, const engine::Schema& schema) {
  return absl::StrCat(
      "{\"output\":", engine::JsonString(out), ",\"rows_in\":", rows_in, ",\"rows_out\":", rows_out,
      ",\"row_groups_skipped\":", skipped, ",\"files\":", files, ",\"bytes\":", bytes,
      ",\"input_bytes\":", input_bytes, ",\"seconds\":", absl::StrFormat("%.3f", seconds),
      ",\"threads\":", p.threads, ",\"format\":\"",
      p.format == engine::OutputFormat::kCsv ? "csv" : "parquet",
      "\",\"schema\":", engine::SchemaJson(schema), "}");
}

struct Input {
  std::unique_ptr<engine::TableSource> source;
  std::unique_ptr<engine::BoundExpr> filter;   // pushed down to the source's row-group pruning
  size_t files = 0;
};

// Resolves the dataset, opens it reading only the columns the query needs, binds the filter.
absl::StatusOr<Input> OpenInput(const AggregateParams& p, const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(engine::ResolvedDataset ds, engine::ResolveDataset(p.input, ctx.data_root));
  for (const auto& line : ds.log) ctx.log(absl::StrCat("aggregate: ", line));
  std::vector<std::string> input_paths;
  for (const auto& f : ds.files) input_paths.push_back(f.path);
  if (absl::Status apart = engine::CheckOutputApart(p.output, input_paths); !apart.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("aggregate: ", apart.message()));
  }
  Input in;
  in.files = ds.files.size();
  std::shared_ptr<const engine::Expr> filter_expr;
  if (!p.filter.empty()) {
    DE_ASSIGN_OR_RETURN(filter_expr, engine::ParseExpr(p.filter, "filter"));
  }
  engine::SourceOptions so;
  so.csv = p.csv;
  so.columns = NeededColumns(p, filter_expr.get());
  // Parquet string columns stay dictionary codes: the filter and the group-by work on codes.
  so.dictionary_strings = true;
  auto opened = engine::TableSource::Open(ds, so);
  if (!opened.ok()) {
    // An unknown column: say which key, metric or filter names it (binding against every column).
    so.columns.clear();
    auto all = engine::TableSource::Open(std::move(ds), so);
    if (!all.ok()) return opened.status();
    if (filter_expr) {
      auto bound = engine::BoundExpr::Bind(filter_expr, (*all)->schema(), "filter");
      if (!bound.ok()) return bound.status();
    }
    auto plan = engine::PlanAggregate((*all)->schema(), p.group_by, p.metrics, p.limits);
    if (!plan.ok()) return plan.status();
    return opened.status();
  }
  in.source = std::move(*opened);
  if (filter_expr) {
    DE_ASSIGN_OR_RETURN(in.filter, engine::BoundExpr::Bind(filter_expr, in.source->schema(), "filter"));
    in.source->SetPrune(in.filter.get());
  }
  return in;
}

absl::StatusOr<TaskOutcome> Run(const AggregateParams& p, const TaskContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  DE_ASSIGN_OR_RETURN(Input in, OpenInput(p, ctx));
  engine::TableSource* source = in.source.get();
  const engine::BoundExpr* filter = in.filter.get();
  const size_t input_files = in.files;
  engine::AggregateLimits limits = p.limits;
  limits.max_memory_bytes = std::max<int64_t>(1, limits.max_memory_bytes / p.threads);
  DE_ASSIGN_OR_RETURN(auto plan, engine::PlanAggregate(source->schema(), p.group_by, p.metrics, limits));

  Shared sh;
  sh.ctx = &ctx;
  sh.source = source;
  sh.filter = filter;
  DE_ASSIGN_OR_RETURN(Batch result, Aggregate(&sh, plan, std::max(1, p.threads)));
  for (const auto& r : sh.reject_samples) ctx.log(absl::StrCat("aggregate: rejected ", r));
  DE_ASSIGN_OR_RETURN(Batch shaped, Shape(p, *plan, std::move(result)));

  DE_ASSIGN_OR_RETURN(auto commit, engine::OutputCommit::Begin(p.output));
  engine::Schema file_schema;
  DE_ASSIGN_OR_RETURN(auto files, Write(p, plan->output_schema, shaped, commit->tmp_dir(), &file_schema));
  int64_t bytes = 0;
  for (const auto& f : files) bytes += f.bytes;
  engine::Manifest manifest;
  manifest.format = p.format == engine::OutputFormat::kCsv ? "csv" : "parquet";
  manifest.codec = p.format == engine::OutputFormat::kCsv ? "" : engine::CodecName(p.codec);
  manifest.rows = static_cast<int64_t>(shaped.num_rows);
  manifest.files = files;
  manifest.schema = file_schema;
  manifest.partition_by = p.partition_by;
  manifest.rows_in = sh.rows_in;
  manifest.rows_rejected = sh.rows_rejected;
  manifest.created_by = "de aggregate";
  DE_RETURN_IF_ERROR(commit->Commit(manifest, p.fsync));

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TaskOutcome outcome;
  const int64_t rows_out = static_cast<int64_t>(shaped.num_rows);
  outcome.counters = {{"rows_in", sh.rows_in},
                      {"rows_out", rows_out},
                      {"rows_rejected", sh.rows_rejected},
                      {"rows_filtered", sh.rows_in - sh.rows_rejected - sh.rows_selected},
                      {"row_groups_skipped", source->row_groups_skipped()},
                      {"files", static_cast<int64_t>(files.size())},
                      {"bytes", bytes},
                      {"input_files", static_cast<int64_t>(input_files)},
                      {"input_bytes", source->input_bytes()}};
  outcome.outputs.push_back(p.output);
  outcome.summary_json = SummaryJson(p, p.output, sh.rows_in, rows_out, source->row_groups_skipped(),
                                     files.size(), bytes, source->input_bytes(), seconds,
                                     plan->output_schema);
  ctx.log(absl::StrCat("aggregate: ", sh.rows_in.load(), " rows in",
                       filter ? absl::StrCat(" (", sh.rows_selected.load(), " pass the filter)") : "",
                       ", ", rows_out, " groups out; ", files.size(),
                       " file(s), ", bytes, " bytes in ", absl::StrFormat("%.2f", seconds), " s"));
  return outcome;
}

}  // namespace

absl::StatusOr<TaskOutcome> RunAggregate(const YAML::Node& with, const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(AggregateParams params, ParseAggregateParams(with, ctx));
  return RunGuarded("aggregate", [&] { return Run(params, ctx); });
}

}  // namespace de::tasks
