// dectl trigger, runs list|show|cancel, clear.
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"

namespace de::cli {
namespace {

const std::vector<std::string> kRunStates = {"waiting", "queued", "running",
                                             "success", "failed", "cancelled"};

bool IsTerminalRunState(const std::string& state) {
  return state == "success" || state == "failed" || state == "cancelled";
}

std::string Tries(const de::v1::TaskInstance& t) {
  return t.max_tries() > 0 ? absl::StrCat(t.try_number(), "/", t.max_tries())
                           : absl::StrCat(t.try_number());
}

// When the task entered its current state, as well as the run tells.
int64_t StateSinceMs(const de::v1::TaskInstance& t, int64_t now_ms) {
  int64_t ms = 0;
  if (t.state() == "queued") ms = t.queued_at_ms();
  if (t.state() == "running") ms = t.started_at_ms();
  if (t.state() == "success" || t.state() == "failed" || t.state() == "up_for_retry" ||
      t.state() == "cancelled" || t.state() == "skipped" || t.state() == "upstream_failed") {
    ms = t.ended_at_ms();
  }
  return ms != 0 ? ms : now_ms;
}

grpc::Status GetRun(Context& ctx, const std::string& run_id, de::v1::Run* run) {
  de::v1::GetRunRequest request;
  request.set_run_id(run_id);
  return ctx.client().Call([&](auto* stub, auto* c) { return stub->GetRun(c, request, run); });
}

// What a run waits on, without the age of data checks ("(checked 12s ago)" changes every
// second): --wait prints the lines again only when something else in them changed.
std::string WaitingOnKey(const de::v1::Run& run) {
  std::string key;
  for (const auto& line : run.waiting_on()) {
    std::string l = line;
    if (size_t at = l.find("checked "); at != std::string::npos) {
      size_t end = at + 8;
      while (end < l.size() && absl::ascii_isdigit(static_cast<unsigned char>(l[end]))) ++end;
      l.erase(at + 8, end - at - 8);
    }
    absl::StrAppend(&key, l, "\n");
  }
  return key;
}

// Follows a run until it ends, printing each state change. Exit 0 iff it succeeded.
int FollowRun(Context& ctx, const std::string& run_id) {
  std::map<std::string, std::pair<std::string, int>> seen;  // task -> (state, try)
  std::string run_state;
  std::string waiting_on;
  absl::Time last_contact = absl::Now();
  while (true) {
    de::v1::Run run;
    grpc::Status status = GetRun(ctx, run_id, &run);
    if (!status.ok()) {
      // Ride out a scheduler restart for up to one --timeout.
      if (ctx.client().IsUnreachable(status) && absl::Now() - last_contact < ctx.options.timeout) {
        std::this_thread::sleep_for(absl::ToChronoNanoseconds(ctx.io.poll_interval));
        continue;
      }
      return ctx.client().Report(status, ctx.err());
    }
    last_contact = absl::Now();
    int64_t now = NowMs();
    if (!ctx.json()) {
      if (run.state() != run_state && !IsTerminalRunState(run.state())) {
        ctx.out() << FormatClock(now) << " run " << run.state()
                  << (run.reason().empty() ? "" : absl::StrCat(" (", run.reason(), ")")) << "\n";
      }
      std::string now_waiting_on = WaitingOnKey(run);
      if (now_waiting_on != waiting_on) {
        for (const auto& w : run.waiting_on()) ctx.out() << "  waiting on " << w << "\n";
        waiting_on = now_waiting_on;
      }
      for (const auto& t : run.tasks()) {
        auto key = std::make_pair(t.state(), t.try_number());
        auto it = seen.find(t.task_id());
        if (it != seen.end() && it->second == key) continue;
        seen[t.task_id()] = key;
        std::string line =
            absl::StrCat(FormatClock(StateSinceMs(t, now)), " ", t.task_id(), " ", t.state());
        if (t.try_number() > 0) absl::StrAppend(&line, " (try ", t.try_number(), ")");
        if (!t.error().empty() && (t.state() == "failed" || t.state() == "up_for_retry")) {
          absl::StrAppend(&line, ": ", Abbreviate(t.error(), 100));
        }
        ctx.out() << line << "\n";
      }
      ctx.out().flush();
    }
    run_state = run.state();
    if (IsTerminalRunState(run.state())) {
      if (ctx.json()) {
        ctx.PrintJson(run);
      } else {
        ctx.out() << FormatClock(run.ended_at_ms() != 0 ? run.ended_at_ms() : now) << " run "
                  << run.run_id() << " " << run.state();
        if (run.started_at_ms() != 0) {
          ctx.out() << " in " << FormatElapsed(run.started_at_ms(), run.ended_at_ms(), now);
        }
        if (!run.reason().empty()) ctx.out() << " (" << run.reason() << ")";
        ctx.out() << "\n";
      }
      return run.state() == "success" ? kExitOk : kExitFailed;
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(ctx.io.poll_interval));
  }
}

struct TriggerArgs {
  std::string dag_id;
  std::string date;
  std::vector<std::string> conf;
  bool wait = false;
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
  return FollowRun(ctx, run.run_id());
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
    table.AddRow({r.run_id(), r.dag_id(), r.run_type(), r.state(), FormatTime(r.logical_date_ms()),
                  FormatTime(r.started_at_ms()),
                  FormatElapsed(r.started_at_ms(), r.ended_at_ms(), now)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int ShowRun(Context& ctx, const std::string& run_id) {
  de::v1::Run run;
  grpc::Status status = GetRun(ctx, run_id, &run);
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(run);
  int64_t now = NowMs();
  auto& out = ctx.out();
  out << "run:          " << run.run_id() << "\n"
      << "dag:          " << run.dag_id() << " (version " << run.dag_version() << ")\n"
      << "type:         " << run.run_type() << "\n"
      << "state:        " << run.state() << "\n"
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
  for (const auto& t : run.tasks()) {
    std::string state = t.state();
    if (t.state() == "up_for_retry" && t.next_retry_at_ms() != 0) {
      absl::StrAppend(&state, " (next ", FormatClock(t.next_retry_at_ms()), ")");
    }
    if (t.deadline_missed_at_ms() != 0) {
      absl::StrAppend(&state, " (deadline missed ", FormatClock(t.deadline_missed_at_ms()), ")");
    }
    table.AddRow({t.task_id(), t.type(), state, Tries(t),
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
  ctx.out() << "cleared " << run.run_id() << ": run is " << run.state() << "\n";
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
                    "follow the run; exit 0 if it succeeds, 1 if it fails or is cancelled");
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
  CLI::App* show = runs->add_subcommand("show", "show a run and its tasks");
  show->add_option("RUN", *show_id, "run id")->required();
  OnRun(show, ctx, [&ctx, show_id] { return ShowRun(ctx, *show_id); });

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
