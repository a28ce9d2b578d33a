// dectl backfill DAG --from A --to B ..., backfill list|status|cancel.
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"

namespace de::cli {
namespace {

struct CreateArgs {
  std::string dag_id;
  std::string from;
  std::string to;
  std::string rerun = "none";
  bool reverse = false;
  int max_active = 0;
  bool dry_run = false;
  std::vector<std::string> conf;
};

// Runs of a backfill that have ended (any terminal run state).
int64_t Finished(const de::v1::Backfill& b) {
  int64_t n = 0;
  for (const auto& [state, count] : b.runs_by_state()) {
    if (state == "success" || state == "failed" || state == "cancelled") n += count;
  }
  return n;
}

// "2024-01-31" without a time of day.
bool IsDateOnly(const std::string& text) {
  std::string t(absl::StripAsciiWhitespace(text));
  return t.size() == 10 && t[4] == '-' && t[7] == '-';
}

int Create(Context& ctx, const CreateArgs& args) {
  if (args.dag_id.empty() || args.from.empty() || args.to.empty()) {
    return ctx.UsageError(
        absl::InvalidArgumentError("usage: dectl backfill DAG --from A --to B [options]"));
  }
  de::v1::CreateBackfillRequest request;
  request.set_dag_id(args.dag_id);
  auto from = ParseDateMs(args.from);
  if (!from.ok()) return ctx.UsageError(from.status());
  auto to = ParseDateMs(args.to);
  if (!to.ok()) return ctx.UsageError(to.status());
  if (*to < *from) {
    return ctx.UsageError(absl::InvalidArgumentError("--to must not be before --from"));
  }
  auto conf = ParseConf(args.conf);
  if (!conf.ok()) return ctx.UsageError(conf.status());
  request.set_from_ms(*from);
  request.set_to_ms(*to);
  // A date (no time) means that day in the DAG's time zone; a date --to includes the whole day.
  request.set_from_is_date(IsDateOnly(args.from));
  request.set_to_is_date(IsDateOnly(args.to));
  request.set_rerun(args.rerun);
  request.set_reverse(args.reverse);
  request.set_max_active(args.max_active);
  request.set_dry_run(args.dry_run);
  request.mutable_conf()->insert(conf->begin(), conf->end());
  de::v1::Backfill backfill;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->CreateBackfill(c, request, &backfill); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(backfill);
  if (args.dry_run) {
    auto section = [&](const char* what, const auto& dates) {
      ctx.out() << "would " << what << " " << dates.size() << (dates.size() == 1 ? " run" : " runs")
                << (dates.empty() ? "\n" : ":\n");
      for (int64_t ms : dates) ctx.out() << "  " << FormatTime(ms) << "\n";
    };
    ctx.out() << "dry run: " << backfill.total() << " intervals of " << args.dag_id << " from "
              << FormatTime(backfill.from_ms()) << " to " << FormatTime(backfill.to_ms())
              << " (UTC; rerun " << args.rerun << ")\n";
    section("create", backfill.logical_dates_ms());
    section("keep", backfill.keep_dates_ms());
    section("rerun", backfill.rerun_dates_ms());
    return kExitOk;
  }
  ctx.out() << "backfill " << backfill.backfill_id() << ": " << backfill.total() << " runs of "
            << backfill.dag_id() << " from " << FormatTime(backfill.from_ms()) << " to "
            << FormatTime(backfill.to_ms()) << "\n"
            << "follow it with: dectl backfill status " << backfill.backfill_id() << "\n";
  return kExitOk;
}

int List(Context& ctx, const std::string& dag_id) {
  de::v1::ListBackfillsRequest request;
  request.set_dag_id(dag_id);
  de::v1::ListBackfillsResponse response;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->ListBackfills(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  Table table({"BACKFILL", "DAG", "FROM", "TO", "STATE", "DONE", "CREATED"});
  for (const auto& b : response.backfills()) {
    table.AddRow({b.backfill_id(), b.dag_id(), FormatTime(b.from_ms()), FormatTime(b.to_ms()),
                  b.state(), absl::StrCat(Finished(b), "/", b.total()),
                  FormatTime(b.created_at_ms())});
  }
  table.Print(ctx.out());
  return kExitOk;
}

grpc::Status GetBackfill(Context& ctx, const std::string& id, bool cancel,
                         de::v1::Backfill* backfill) {
  de::v1::GetBackfillRequest request;
  request.set_backfill_id(id);
  return ctx.client().Call([&](auto* stub, auto* c) {
    return cancel ? stub->CancelBackfill(c, request, backfill)
                  : stub->GetBackfill(c, request, backfill);
  });
}

int Status(Context& ctx, const std::string& id) {
  de::v1::Backfill b;
  grpc::Status status = GetBackfill(ctx, id, /*cancel=*/false, &b);
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(b);
  auto& out = ctx.out();
  out << "backfill:   " << b.backfill_id() << "\n"
      << "dag:        " << b.dag_id() << "\n"
      << "range:      " << FormatTime(b.from_ms()) << " -> " << FormatTime(b.to_ms())
      << (b.reverse() ? " (newest first)" : "") << "\n"
      << "rerun:      " << (b.rerun().empty() ? "none" : b.rerun()) << "\n"
      << "max active: " << (b.max_active() > 0 ? absl::StrCat(b.max_active()) : "DAG default")
      << "\n"
      << "state:      " << b.state() << "\n"
      << "created:    " << FormatTime(b.created_at_ms()) << "\n";
  if (b.ended_at_ms() != 0) out << "ended:      " << FormatTime(b.ended_at_ms()) << "\n";
  out << "\n";
  static const char* const kOrder[] = {"waiting", "queued", "running",
                                       "success", "failed", "cancelled"};
  std::map<std::string, int32_t> counts(b.runs_by_state().begin(), b.runs_by_state().end());
  Table table({"STATE", "RUNS"});
  for (const char* state : kOrder) {
    auto it = counts.find(state);
    if (it == counts.end()) continue;
    table.AddRow({state, absl::StrCat(it->second)});
    counts.erase(it);
  }
  for (const auto& [state, n] : counts) table.AddRow({state, absl::StrCat(n)});
  if (table.rows() > 0) {
    table.Print(out);
    out << "\n";
  }
  out << ProgressBar(Finished(b), b.total()) << "\n";
  return kExitOk;
}

int Cancel(Context& ctx, const std::string& id) {
  de::v1::Backfill b;
  grpc::Status status = GetBackfill(ctx, id, /*cancel=*/true, &b);
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(b);
  ctx.out() << "cancelled backfill " << b.backfill_id() << ": " << b.state() << "\n";
  return kExitOk;
}

}  // namespace

void AddBackfillCommands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<CreateArgs>();
  CLI::App* backfill = app.add_subcommand(
      "backfill", "create runs for a range of past intervals (or: backfill list|status|cancel)");
  backfill->add_option("DAG", args->dag_id, "DAG id");
  backfill->add_option("--from", args->from, "first logical date (YYYY-MM-DD or ISO timestamp)");
  backfill->add_option("--to", args->to, "last logical date (YYYY-MM-DD or ISO timestamp)");
  backfill->add_option("--rerun", args->rerun, "intervals that already have a run: rerun which")
      ->check(CLI::IsMember({"none", "failed", "all"}))
      ->capture_default_str();
  backfill->add_flag("--reverse", args->reverse, "newest interval first");
  backfill
      ->add_option("--max-active", args->max_active,
                   "runs at once (default: the DAG's max_active_runs)")
      ->check(CLI::Range(1, 1000000));
  backfill->add_flag("--dry-run", args->dry_run, "only list the intervals it would create");
  backfill->add_option("--conf", args->conf, "KEY=VALUE run parameter (repeatable)")
      ->allow_extra_args(false);
  OnRun(backfill, ctx, [&ctx, args] { return Create(ctx, *args); });

  auto list_dag = std::make_shared<std::string>();
  CLI::App* list = backfill->add_subcommand("list", "list backfills");
  list->add_option("DAG", *list_dag, "only backfills of this DAG");
  OnRun(list, ctx, [&ctx, list_dag] { return List(ctx, *list_dag); });

  auto status_id = std::make_shared<std::string>();
  CLI::App* status = backfill->add_subcommand("status", "progress of a backfill");
  status->add_option("ID", *status_id, "backfill id")->required();
  OnRun(status, ctx, [&ctx, status_id] { return Status(ctx, *status_id); });

  auto cancel_id = std::make_shared<std::string>();
  CLI::App* cancel = backfill->add_subcommand("cancel", "stop creating runs; cancel active ones");
  cancel->add_option("ID", *cancel_id, "backfill id")->required();
  OnRun(cancel, ctx, [&ctx, cancel_id] { return Cancel(ctx, *cancel_id); });
}

}  // namespace de::cli
