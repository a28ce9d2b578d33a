// dectl trigger, runs list|show|cancel, clear.
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"
#include "cli/reconnect.h"
#include "cli/run_progress.h"
#include "cli/runs_mapped.h"

namespace de::cli {
namespace {

const std::vector<std::string> kRunStates = {"waiting", "queued", "running",
                                             "success", "failed", "cancelled"};

std::string Tries(const de::v1::TaskInstance& t) {
  return t.max_tries() > 0 ? absl::StrCat(t.try_number(), "/", t.max_tries())
                           : absl::StrCat(t.try_number());
}

grpc::Status GetRun(Context& ctx, const std::string& run_id, de::v1::Run* run) {
  de::v1::GetRunRequest request;
  request.set_run_id(run_id);
  return ctx.client().Call([&](auto* stub, auto* c) { return stub->GetRun(c, request, run); });
}

// Follows a run until it ends, printing its progress (cli/run_progress.h). Exit 0 iff it
// succeeded. Rides out scheduler restarts (see reconnect.h) until `wait_timeout` (zero = no
// limit).
int FollowRun(Context& ctx, const std::string& run_id, absl::Duration wait_timeout) {
  RunPrinter printer(ctx);
  Reconnector reconnect(ctx, wait_timeout);
  while (true) {
    de::v1::Run run;
    grpc::Status status = GetRun(ctx, run_id, &run);
    if (!status.ok()) {
      if (reconnect.Retry(status)) continue;
      return ctx.client().Report(status, ctx.err());
    }
    reconnect.Connected();
    int64_t now = NowMs();
    if (!ctx.json()) printer.Update(run, now);
    if (IsTerminalRunState(run.state())) {
      if (ctx.json()) {
        ctx.PrintJson(run);
      } else {
        printer.Finish(run, now);
      }
      return run.state() == "success" ? kExitOk : kExitFailed;
    }
    if (reconnect.TimedOut()) {
      return ctx.Failed(absl::StrCat("gave up waiting after ", absl::FormatDuration(wait_timeout),
                                     " (--wait-timeout): run ", run_id, " is ", run.state()));
    }
    reconnect.Pause();
  }
}

struct TriggerArgs {
  std::string dag_id;
  std::string date;
  std::vector<std::string> conf;
  bool wait = false;
  std::string wait_timeout;   // empty = no limit
};

int Trigger(Context& ctx, const TriggerArgs& args) {
  de::v1::TriggerRequest request;
  request.set_dag_id(args.dag_id);
  if (!args.date.empty()) {
    auto ms = ParseDateMs(args.date);
    if (!ms.ok()) return ctx.UsageError(ms.status());
    request.set_logical_date_ms(*ms);
  }
  auto conf = ParseConf(args.conf);
  if (!conf.ok()) return ctx.UsageError(conf.status());
  request.mutable_conf()->insert(conf->begin(), conf->end());
  absl::Duration wait_timeout = absl::ZeroDuration();
  if (!args.wait_timeout.empty()) {
    auto d = ParseTimeout(args.wait_timeout);
    if (!d.ok()) return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("--wait-timeout: ", d.status().message())));
    wait_timeout = *d;
  }
  de::v1::Run run;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->Trigger(c, request, &run); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (!args.wait) {
    if (ctx.json()) return ctx.PrintJson(run);
    ctx.out() << run.run_id() << "\n";
    return kExitOk;
  }
  if (!ctx.json()) {
    ctx.out() << run.run_id() << "\n";
    ctx.out().flush();
  }
  return FollowRun(ctx, run.run_id(), wait_timeout);
}

struct ListArgs {
  std::string dag_id;
  std::string state;
  int limit = 0;
};

int ListRuns(Context& ctx, const ListArgs& args) {
  de::v1::ListRunsRequest request;
  request.set_dag_id(args.dag_id);
  request.set_state(args.state);
  request.set_limit(args.limit);
  de::v1::ListRunsResponse response;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->ListRuns(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  int64_t now = NowMs();
  Table table({"RUN", "DAG", "TYPE", "STATE", "LOGICAL DATE", "STARTED", "DURATION"});
  for (const auto& r : response.runs()) {
    table.AddRow({r.run_id(), r.dag_id(), r.run_type(), ColourState(r.state(), ctx.colour()),
                  FormatTime(r.logical_date_ms()), FormatTime(r.started_at_ms()),
                  FormatElapsed(r.started_at_ms(), r.ended_at_ms(), now)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int ShowRun(Context& ctx, const std::string& run_id, bool all_instances) {
  de::v1::Run run;
  grpc::Status status = GetRun(ctx, run_id, &run);
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(run);
  int64_t now = NowMs();
  auto& out = ctx.out();
  out << "run:          " << run.run_id() << "\n"
      << "dag:          " << run.dag_id() << " (version " << run.dag_version() << ")\n"
      << "type:         " << run.run_type() << "\n"
      << "state:        " << ColourState(run.state(), ctx.colour()) << "\n"
      << "logical date: " << FormatTime(run.logical_date_ms()) << "\n"
      << "interval:     " << FormatTime(run.data_interval_start_ms()) << " -> "
      << FormatTime(run.data_interval_end_ms()) << "\n"
      << "created:      " << FormatTime(run.created_at_ms()) << "\n"
      << "started:      " << FormatTime(run.started_at_ms()) << "\n"
      << "ended:        " << FormatTime(run.ended_at_ms()) << "\n"
      << "duration:     " << FormatElapsed(run.started_at_ms(), run.ended_at_ms(), now) << "\n";
  if (!run.conf().empty()) {
    std::map<std::string, std::string> sorted(run.conf().begin(), run.conf().end());
    out << "conf:         " << absl::StrJoin(sorted, " ", absl::PairFormatter("=")) << "\n";
  }
  if (!run.backfill_id().empty()) out << "backfill:     " << run.backfill_id() << "\n";
  if (run.deadline_ms() != 0) {
    out << "deadline:     " << FormatTime(run.deadline_ms())
        << (run.deadline_missed_at_ms() != 0
                ? absl::StrCat(" (missed; deadline_miss fired ",
                               FormatTime(run.deadline_missed_at_ms()), ")")
                : std::string(run.state() == "success" ? " (met)" : ""))
        << "\n";
  }
  if (!run.reason().empty()) out << "reason:       " << run.reason() << "\n";
  if (!run.waiting_on().empty()) {
    out << "waiting on:\n";
    for (const auto& w : run.waiting_on()) out << "  " << w << "\n";
  }
  out << "\n";
  Table table({"TASK", "TYPE", "STATE", "TRIES", "DURATION", "WORKER", "ERROR"});
  const auto mapped = MappedCounts(run);
  for (const TaskRow& row : TaskRows(run, all_instances)) {
    if (row.task == nullptr) {
      table.AddRow({absl::StrCat("  ... ", row.more, " more (--instances)")});
      continue;
    }
    const de::v1::TaskInstance& t = *row.task;
    std::string state = ColourState(t.state(), ctx.colour());
    if (auto m = mapped.find(t.task_id()); m != mapped.end()) {
      absl::StrAppend(&state, " ", MappedSummary(m->second));
    }
    if (t.state() == "up_for_retry" && t.next_retry_at_ms() != 0) {
      absl::StrAppend(&state, " (next ", FormatClock(t.next_retry_at_ms()), ")");
    }
    if (t.deadline_missed_at_ms() != 0) {
      absl::StrAppend(&state, " (deadline missed ", FormatClock(t.deadline_missed_at_ms()), ")");
    }
    table.AddRow({row.instance ? absl::StrCat("  ", t.task_id()) : t.task_id(), t.type(), state,
                  Tries(t),
                  FormatElapsed(t.started_at_ms(), t.ended_at_ms(), now),
                  t.worker().empty() ? "-" : t.worker(), Abbreviate(t.error(), 80)});
  }
  table.Print(out);
  return kExitOk;
}

int CancelRun(Context& ctx, const std::string& run_id) {
  de::v1::CancelRunRequest request;
  request.set_run_id(run_id);
  de::v1::Run run;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->CancelRun(c, request, &run); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(run);
  ctx.out() << "cancel requested for " << run.run_id() << ": run is " << run.state() << "\n";
  return kExitOk;
}

struct ClearArgs {
  std::string run_id;
  std::vector<std::string> tasks;
  bool downstream = false;
  bool failed_only = false;
};

int Clear(Context& ctx, const ClearArgs& args) {
  de::v1::ClearRunRequest request;
  request.set_run_id(args.run_id);
  for (const auto& t : args.tasks) request.add_task_ids(t);
  request.set_downstream(args.downstream);
  request.set_failed_only(args.failed_only);
  de::v1::Run run;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->ClearRun(c, request, &run); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(run);
  constexpr int kListed = 20;  // a cleared fan-out of thousands is not listed in full
  const auto& ids = run.cleared_task_ids();
  const int n = ids.size();
  if (n == 0) {  // a scheduler from before cleared_task_ids
    ctx.out() << "cleared " << run.run_id() << ": run is " << run.state() << "\n";
    return kExitOk;
  }
  std::string listed = absl::StrJoin(ids.begin(), ids.begin() + std::min(n, kListed), ", ");
  if (n > kListed) absl::StrAppend(&listed, ", ... (dectl runs show ", run.run_id(), ")");
  ctx.out() << "cleared " << n << (n == 1 ? " task" : " tasks") << " of " << run.run_id() << ": "
            << listed << "; run is " << ColourState(run.state(), ctx.colour()) << "\n";
  return kExitOk;
}

}  // namespace

void AddRunCommands(CLI::App& app, Context& ctx) {
  auto trigger_args = std::make_shared<TriggerArgs>();
  CLI::App* trigger = app.add_subcommand("trigger", "start a manual run of a DAG");
  trigger->add_option("DAG", trigger_args->dag_id, "DAG id")->required();
  trigger->add_option("--date", trigger_args->date,
                      "logical date: YYYY-MM-DD or ISO timestamp (UTC unless an offset is given; "
                      "default now)");
  trigger->add_option("--conf", trigger_args->conf, "KEY=VALUE run parameter (repeatable)")
      ->allow_extra_args(false);
  trigger->add_flag("--wait", trigger_args->wait,
                    "follow the run (riding out scheduler restarts); exit 0 if it succeeds, 1 if "
                    "it fails or is cancelled");
  trigger->add_option("--wait-timeout", trigger_args->wait_timeout,
                      "with --wait: give up (exit 1) after this long, e.g. 30m (default: wait "
                      "as long as it takes)");
  OnRun(trigger, ctx, [&ctx, trigger_args] { return Trigger(ctx, *trigger_args); });

  CLI::App* runs = app.add_subcommand("runs", "list, show and cancel runs");
  runs->require_subcommand(1);

  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = runs->add_subcommand("list", "list recent runs, newest first");
  list->add_option("DAG", list_args->dag_id, "only runs of this DAG");
  list->add_option("--state", list_args->state, "only runs in this state")
      ->check(CLI::IsMember(kRunStates));
  list->add_option("--limit", list_args->limit, "at most this many runs (default 50)")
      ->check(CLI::Range(0, 1000000));
  OnRun(list, ctx, [&ctx, list_args] { return ListRuns(ctx, *list_args); });

  auto show_id = std::make_shared<std::string>();
  auto show_instances = std::make_shared<bool>(false);
  CLI::App* show = runs->add_subcommand("show", "show a run and its tasks");
  show->add_option("RUN", *show_id, "run id")->required();
  show->add_flag("--instances", *show_instances,
                 "list every instance of a for_each task (default: the counts, and the "
                 "instances that did not succeed)");
  OnRun(show, ctx, [&ctx, show_id, show_instances] {
    return ShowRun(ctx, *show_id, *show_instances);
  });

  auto cancel_id = std::make_shared<std::string>();
  CLI::App* cancel = runs->add_subcommand("cancel", "cancel a run (running tasks are killed)");
  cancel->add_option("RUN", *cancel_id, "run id")->required();
  OnRun(cancel, ctx, [&ctx, cancel_id] { return CancelRun(ctx, *cancel_id); });

  auto clear_args = std::make_shared<ClearArgs>();
  CLI::App* clear = app.add_subcommand("clear", "re-run tasks of a run");
  clear->add_option("RUN", clear_args->run_id, "run id")->required();
  clear->add_option("--task", clear_args->tasks, "task to clear (repeatable; default all)")
      ->allow_extra_args(false);
  clear->add_flag("--downstream", clear_args->downstream, "also clear tasks downstream");
  clear->add_flag("--failed-only", clear_args->failed_only,
                  "only tasks that failed (or were upstream_failed)");
  OnRun(clear, ctx, [&ctx, clear_args] { return Clear(ctx, *clear_args); });
}

}  // namespace de::cli
