// dectl logs RUN TASK [--attempt N] [-f]: prints (and follows) the log of a task attempt.
#include <thread>

#include "cli/commands.h"
#include "cli/format.h"

namespace de::cli {
namespace {

struct LogArgs {
  std::string run_id;
  std::string task_id;
  int attempt = 0;  // 0 = latest
  bool follow = false;
};

// True if the run exists, has the task, and the task has not reached a final state: the
// attempt asked for may still start (`logs -f` right after `trigger`).
bool AttemptMayStillStart(Context& ctx, const LogArgs& args) {
  de::v1::GetRunRequest request;
  request.set_run_id(args.run_id);
  de::v1::Run run;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->GetRun(c, request, &run); });
  if (!status.ok()) return ctx.client().IsUnreachable(status);
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
// task has not started yet, it waits for it). The attempt is pinned after the first answer, so a
// retry starting meanwhile does not mix two logs.
int Logs(Context& ctx, const LogArgs& args) {
  de::v1::GetTaskLogRequest request;
  request.set_run_id(args.run_id);
  request.set_task_id(args.task_id);
  request.set_try_number(args.attempt);
  request.set_offset(0);
  de::v1::GetTaskLogResponse all;  // for --output json: everything in one document
  absl::Time last_contact = absl::Now();
  while (true) {
    de::v1::GetTaskLogResponse response;
    grpc::Status status = ctx.client().Call(
        [&](auto* stub, auto* c) { return stub->GetTaskLog(c, request, &response); });
    if (!status.ok()) {
      bool retry =
          args.follow &&
          ((ctx.client().IsUnreachable(status) &&
            absl::Now() - last_contact < ctx.options.timeout) ||
           (status.error_code() == grpc::StatusCode::NOT_FOUND && AttemptMayStillStart(ctx, args)));
      if (retry) {
        std::this_thread::sleep_for(absl::ToChronoNanoseconds(ctx.io.poll_interval));
        continue;
      }
      return ctx.client().Report(status, ctx.err());
    }
    last_contact = absl::Now();
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
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(ctx.io.poll_interval));
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
  logs->add_flag("-f,--follow", args->follow, "keep printing until the attempt ends");
  OnRun(logs, ctx, [&ctx, args] { return Logs(ctx, *args); });
}

}  // namespace de::cli
