// dectl logs RUN TASK [--attempt N] [-f]: prints (and follows) the log of a task attempt.
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"
#include "cli/reconnect.h"

namespace de::cli {
namespace {

struct LogArgs {
  std::string run_id;
  std::string task_id;
  int attempt = 0;  // 0 = latest
  bool follow = false;
  std::string wait_timeout;   // with --follow; empty = no limit
};

// True if the run exists, has the task, and the task has not reached a final state: the
// attempt asked for may still start (`logs -f` right after `trigger`).
bool AttemptMayStillStart(Context& ctx, const LogArgs& args) {
  de::v1::GetRunRequest request;
  request.set_run_id(args.run_id);
  de::v1::Run run;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->GetRun(c, request, &run); });
  if (!status.ok()) return IsSchedulerAway(status);
  for (const auto& t : run.tasks()) {
    if (t.task_id() != args.task_id) continue;
    if (args.attempt > 0 && t.try_number() >= args.attempt) return false;  // it was never logged
    const std::string& s = t.state();
    return s == "scheduled" || s == "queued" || s == "running" || s == "up_for_retry";
  }
  return false;
}

// Reads the log from offset 0 in pieces. Without --follow it stops when no more bytes are
// available now; with it, when the attempt has finished and every byte was read (and, if the
// task has not started yet, it waits for it), riding out scheduler restarts (reconnect.h): it
// resumes at the byte offset it had reached, so no line is printed twice or skipped. The attempt
// is pinned after the first answer, so a retry starting meanwhile does not mix two logs.
int Logs(Context& ctx, const LogArgs& args) {
  absl::Duration wait_timeout = absl::ZeroDuration();
  if (!args.wait_timeout.empty()) {
    auto d = ParseTimeout(args.wait_timeout);
    if (!d.ok()) {
      return ctx.UsageError(
          absl::InvalidArgumentError(absl::StrCat("--wait-timeout: ", d.status().message())));
    }
    wait_timeout = *d;
  }
  Reconnector reconnect(ctx, wait_timeout);
  de::v1::GetTaskLogRequest request;
  request.set_run_id(args.run_id);
  request.set_task_id(args.task_id);
  request.set_try_number(args.attempt);
  request.set_offset(0);
  de::v1::GetTaskLogResponse all;  // for --output json: everything in one document
  while (true) {
    de::v1::GetTaskLogResponse response;
    grpc::Status status = ctx.client().Call(
        [&](auto* stub, auto* c) { return stub->GetTaskLog(c, request, &response); });
    if (!status.ok()) {
      if (args.follow && reconnect.Retry(status)) continue;
      if (args.follow && !reconnect.TimedOut() &&
          status.error_code() == grpc::StatusCode::NOT_FOUND && AttemptMayStillStart(ctx, args)) {
        reconnect.Pause();
        continue;
      }
      return ctx.client().Report(status, ctx.err());
    }
    reconnect.Connected();
    if (request.try_number() == 0 && response.try_number() > 0) {
      request.set_try_number(response.try_number());
    }
    all.set_try_number(response.try_number());
    all.set_finished(response.finished());
    if (!response.data().empty()) {
      if (ctx.json()) {
        all.mutable_data()->append(response.data());
      } else {
        ctx.out() << response.data();
        ctx.out().flush();
      }
      int64_t next = response.next_offset();
      if (next <= request.offset()) next = request.offset() + response.data().size();
      request.set_offset(next);
      all.set_next_offset(next);
      continue;  // more may be there right now
    }
    if (response.next_offset() > request.offset()) request.set_offset(response.next_offset());
    all.set_next_offset(request.offset());
    if (!args.follow || response.finished()) break;
    if (reconnect.TimedOut()) {
      if (ctx.json()) ctx.PrintJson(all);
      return ctx.Failed(absl::StrCat("gave up following after ",
                                     absl::FormatDuration(wait_timeout),
                                     " (--wait-timeout): the attempt is still running"));
    }
    reconnect.Pause();
  }
  if (ctx.json()) return ctx.PrintJson(all);
  return kExitOk;
}

}  // namespace

void AddLogCommands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<LogArgs>();
  CLI::App* logs = app.add_subcommand("logs", "print the log of a task attempt");
  logs->add_option("RUN", args->run_id, "run id")->required();
  logs->add_option("TASK", args->task_id, "task id")->required();
  logs->add_option("--attempt", args->attempt, "try number (default: the latest)")
      ->check(CLI::Range(1, 1000000));
  logs->add_flag("-f,--follow", args->follow,
                 "keep printing until the attempt ends (riding out scheduler restarts)");
  logs->add_option("--wait-timeout", args->wait_timeout,
                   "with -f: give up (exit 1) after this long (default: as long as it takes)");
  OnRun(logs, ctx, [&ctx, args] { return Logs(ctx, *args); });
}

}  // namespace de::cli
