// dectl db clean: deletes old history (finished runs with their task instances, attempts, alert
// deliveries and logs) through the scheduler, which owns the database.
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "common/dag/loader.h"
#include "common/human_bytes.h"

namespace de::cli {
namespace {

struct CleanOptions {
  std::string older_than;
  std::string dag;
  bool dry_run = false;
};

absl::StatusOr<int64_t> ParseOlderThan(const std::string& text) {
  auto d = dag::ParseDuration(text);
  if (!d.ok() || *d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--older-than: '", text, "' is not a duration like 90d, 12h"));
  }
  return absl::ToInt64Milliseconds(*d);
}

int Clean(Context& ctx, const CleanOptions& o) {
  auto older_than = ParseOlderThan(o.older_than);
  if (!older_than.ok()) return ctx.UsageError(older_than.status());
  de::v1::CleanHistoryRequest request;
  request.set_older_than_ms(*older_than);
  request.set_dag_id(o.dag);
  request.set_dry_run(o.dry_run);
  de::v1::CleanHistoryResponse r;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->CleanHistory(c, request, &r); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(r);
  const std::string what = absl::StrCat(
      r.runs(), " finished runs", o.dag.empty() ? "" : " of " + o.dag, " that ended before ",
      FormatTime(r.cutoff_ms()));
  const std::string rows = absl::StrCat(
      r.task_instances(), " task instances, ", r.attempts(), " attempts, ", r.alerts(),
      " alert deliveries, ", r.log_files(), " log files (", common::HumanBytes(r.log_bytes()), ")");
  if (r.dry_run()) {
    ctx.out() << "dry run: would delete " << what << "\n  with " << rows
              << "\nnothing was deleted\n";
  } else {
    ctx.out() << "deleted " << what << "\n  with " << rows << " in " << r.batches()
              << (r.batches() == 1 ? " batch" : " batches") << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddDbCommands(CLI::App& app, Context& ctx) {
  CLI::App* db = app.add_subcommand("db", "maintenance of the scheduler's database");
  db->require_subcommand(1);
  auto o = std::make_shared<CleanOptions>();
  CLI::App* clean = db->add_subcommand(
      "clean", "delete finished runs older than a cutoff, with their tasks, attempts and logs (admin)");
  clean->add_option("--older-than", o->older_than, "runs that ended this long ago: 90d, 12h")
      ->required();
  clean->add_option("--dag", o->dag, "only this DAG's runs");
  clean->add_flag("--dry-run", o->dry_run, "print what would be deleted, delete nothing");
  OnRun(clean, ctx, [&ctx, o] { return Clean(ctx, *o); });
}

}  // namespace de::cli
