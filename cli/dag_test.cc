// dectl dag test FILE [--date D] [--conf k=v ...] [--data-root DIR] [--keep-home] [--var k=v]
// [--secret k=FILE] [--slots N]: runs the DAG once, here and now, like `airflow dags test`: an
// in-process scheduler and worker (cli/local_scheduler.h) on a temporary DE_HOME, one manual run
// with logical date D (the schedule only gives its interval), every task's log printed as it
// arrives, then a table of task states and durations. Exit 0 iff the run succeeded.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/dag_file.h"
#include "cli/format.h"
#include "cli/local_dates.h"
#include "cli/local_scheduler.h"
#include "cli/parse.h"
#include "cli/run_follower.h"
#include "common/dag/dag_params.h"

namespace de::cli {
namespace {

struct TestArgs {
  std::string file;
  std::string date;
  std::vector<std::string> conf;
  std::string data_root = ".";
  bool keep_home = false;
  std::vector<std::string> vars;
  std::vector<std::string> secrets;
  int slots = 4;
};

// SIGINT/SIGTERM while the run goes: the run is cancelled and everything stopped and cleaned up
// as on any other end. Blocks them in the calling thread (so in every thread it starts) while
// alive.
class InterruptWatch {
 public:
  InterruptWatch() {
    sigemptyset(&sigs_);
    sigaddset(&sigs_, SIGINT);
    sigaddset(&sigs_, SIGTERM);
    sigaddset(&sigs_, SIGUSR2);   // internal: the watch ends
    pthread_sigmask(SIG_BLOCK, &sigs_, &old_);
    thread_ = std::thread([this] {
      int sig = 0;
      while (sigwait(&sigs_, &sig) == 0) {
        if (sig == SIGUSR2) return;
        interrupted_ = true;
      }
    });
  }
  ~InterruptWatch() {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  bool interrupted() const { return interrupted_; }

 private:
  sigset_t sigs_, old_;
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

// --var NAME=VALUE and --secret NAME=FILE into the local vault.
absl::Status FillVault(vault::Vault& vault, const TestArgs& args) {
  auto vars = ParseConf(args.vars);
  if (!vars.ok()) return absl::InvalidArgumentError(absl::StrCat("--var: ", vars.status().message()));
  for (const auto& [name, value] : *vars) {
    if (absl::Status st = vault.SetVariable(name, value); !st.ok()) return st;
  }
  auto secrets = ParseConf(args.secrets);
  if (!secrets.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--secret: ", secrets.status().message()));
  }
  for (const auto& [name, path] : *secrets) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream value;
    value << in.rdbuf();
    if (!in) return absl::NotFoundError(absl::StrCat("--secret ", name, ": cannot read ", path));
    std::string v = value.str();
    if (!v.empty() && v.back() == '\n') v.pop_back();
    if (absl::Status st = vault.SetSecret(name, v); !st.ok()) return st;
  }
  return absl::OkStatus();
}

void PrintHeader(Context& ctx, const dag::DagSpec& spec, const LocalRunDate& date,
                 const LocalScheduler& local, const std::string& data_root) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec.timezone, &tz)) tz = absl::UTCTimeZone();
  auto iso = [&](absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz); };
  auto& out = ctx.out();
  out << "dag test: " << spec.id << " (" << spec.tasks.size()
      << (spec.tasks.size() == 1 ? " task" : " tasks") << "), logical date "
      << iso(date.logical) << ", data interval [" << iso(date.interval.start) << ", "
      << iso(date.interval.end) << ")\n"
      << "  data root " << data_root << "\n"
      << "  DE_HOME   " << local.home() << " (temporary; scheduler and worker log: dag-test.log)\n";
  if (!date.note.empty()) out << "  " << date.note << "\n";
  for (const auto& w : spec.wait_for) {
    if (w.kind != dag::WaitKind::kDag) continue;   // data waits are checked as usual
    out << "  wait_for " << w.dag << (w.task.empty() ? "" : "." + w.task)
        << ": skipped (dag test runs this DAG alone; what it reads must already be in the data "
           "root)\n";
  }
  out.flush();
}

// The final table; returns the failed tasks' lines ("task T failed: ERROR; log: PATH").
std::vector<std::string> PrintSummary(Context& ctx, const v1::Run& run, const std::string& home) {
  Table table({"TASK", "TYPE", "STATE", "TRIES", "DURATION", "ERROR"});
  std::vector<std::string> failed;
  for (const auto& t : run.tasks()) {
    table.AddRow({t.task_id(), t.type(), t.state(),
                  t.max_tries() > 0 ? absl::StrCat(t.try_number(), "/", t.max_tries()) : "0",
                  FormatElapsed(t.started_at_ms(), t.ended_at_ms(), NowMs()),
                  t.error().empty() ? "" : Abbreviate(t.error(), 80)});
    if (t.state() != "failed") continue;
    const std::string log = absl::StrCat(home, "/logs/", run.run_id(), "/", t.task_id(), "/",
                                         t.try_number(), ".log");
    std::error_code ec;
    failed.push_back(absl::StrCat("task ", t.task_id(), " failed",
                                  t.error().empty() ? "" : ": " + t.error(),
                                  std::filesystem::exists(log, ec) ? "; its log: " + log
                                                                   : " (it wrote no log)"));
  }
  ctx.out() << "\n";
  table.Print(ctx.out());
  return failed;
}

// Submits, triggers and follows the run; returns it when it has ended.
absl::StatusOr<v1::Run> RunOnce(Context& ctx, LocalScheduler& local, const dag::DagSpec& spec,
                                const LocalRunDate& date,
                                const std::map<std::string, std::string>& conf,
                                const InterruptWatch& watch) {
  sched::Scheduler& s = local.scheduler();
  auto submitted = s.SubmitDag(spec.yaml, spec.source);
  if (!submitted.ok()) return submitted.status();
  if (submitted->errors_size() > 0) {
    std::vector<std::string> lines;
    for (const auto& d : submitted->errors()) {
      lines.push_back(d.line() > 0 ? absl::StrCat(spec.source, ":", d.line(), ":", d.column(),
                                                  ": ", d.message())
                                   : absl::StrCat(spec.source, ": ", d.message()));
    }
    if (!spec.external_refs.empty()) {
      lines.push_back("(dag test has only the variables and secrets given with --var NAME=VALUE "
                      "and --secret NAME=FILE)");
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  auto run = s.Trigger(spec.id, date.logical, conf);
  if (!run.ok()) return run.status();
  ctx.out() << "run " << run->run_id() << "\n";
  RunFollower follower(&s, run->run_id(), ctx.out());
  bool cancelled = false;
  const absl::Duration poll = std::min(ctx.io.poll_interval, absl::Milliseconds(100));
  while (true) {
    auto now = follower.Poll();
    if (!now.ok()) return now.status();
    const std::string& st = now->state();
    if (st == "success" || st == "failed" || st == "cancelled") {
      (void)follower.Poll();   // the last log lines
      return now;
    }
    if (watch.interrupted() && !cancelled) {
      cancelled = true;
      ctx.err() << "dectl: interrupted: cancelling the run\n";
      (void)s.CancelRun(run->run_id());
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll));
  }
}

// The table and the verdict; removes the home unless a failed run's logs are worth keeping.
int Finish(Context& ctx, const absl::StatusOr<v1::Run>& run, LocalScheduler& local,
           bool keep_home) {
  const std::string home = local.home();
  const bool ok = run.ok() && run->state() == "success";
  // Kept for a run that failed (its logs); a DAG that never ran leaves nothing worth keeping.
  if ((ok || !run.ok()) && !keep_home) {
    if (absl::Status st = local.RemoveHome(); !st.ok()) ctx.err() << "dectl: " << st.message() << "\n";
  }
  if (!run.ok()) {
    ctx.err() << run.status().message() << "\n";
    return kExitFailed;
  }
  std::vector<std::string> failed = PrintSummary(ctx, *run, home);
  if (ok) {
    ctx.out() << "\nrun " << run->run_id() << " succeeded in "
              << FormatElapsed(run->started_at_ms(), run->ended_at_ms(), NowMs()) << "\n";
    if (keep_home) ctx.out() << "kept DE_HOME " << home << "\n";
    return kExitOk;
  }
  ctx.out() << "\nrun " << run->run_id() << " " << run->state()
            << (run->reason().empty() ? "" : " (" + run->reason() + ")") << "\n";
  ctx.out().flush();
  for (const auto& line : failed) ctx.err() << "dectl: " << line << "\n";
  ctx.err() << "dectl: dag test of " << run->dag_id() << " failed; kept DE_HOME " << home
            << " (task logs under logs/, the scheduler's in dag-test.log)\n";
  return kExitFailed;
}

int Test(Context& ctx, const TestArgs& args) {
  auto spec = LoadDagFile(args.file, ctx.err());
  if (!spec.ok()) return PrintLoadError(spec.status(), ctx.err());
  auto conf = ParseConf(args.conf);
  if (!conf.ok()) return ctx.UsageError(conf.status());
  auto checked = dag::CheckConf(*spec, *conf);
  if (!checked.ok()) return ctx.Failed(std::string(checked.status().message()));
  auto date = PickLocalRunDate(*spec, args.date, absl::Now());
  if (!date.ok()) return ctx.UsageError(date.status());
  std::error_code ec;
  if (!std::filesystem::is_directory(args.data_root, ec)) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("--data-root ", args.data_root, ": not a folder")));
  }
  std::string data_root = std::filesystem::absolute(args.data_root, ec).lexically_normal().string();
  while (data_root.size() > 1 && data_root.back() == '/') data_root.pop_back();

  InterruptWatch watch;   // before any thread starts, so they all leave the signals to it
  LocalSchedulerOptions opts;
  opts.data_root = data_root;
  opts.slots = args.slots;
  auto local = LocalScheduler::Start(opts);
  if (!local.ok()) return ctx.Failed(absl::StrCat("dag test: ", local.status().message()));
  absl::Status filled = FillVault((*local)->vault(), args);
  if (!filled.ok()) {
    (*local)->Stop();
    (void)(*local)->RemoveHome();
    return ctx.Failed(std::string(filled.message()));
  }
  PrintHeader(ctx, *spec, *date, **local, data_root);
  auto run = RunOnce(ctx, **local, *spec, *date, *conf, watch);
  (*local)->Stop();   // no scheduler or task outlives the command
  return Finish(ctx, run, **local, args.keep_home);
}

}  // namespace

void AddDagTestCommand(CLI::App& dag, Context& ctx) {
  auto args = std::make_shared<TestArgs>();
  CLI::App* test = dag.add_subcommand(
      "test", "run a DAG once, here, with an in-process scheduler and worker (no server needed)");
  test->add_option("FILE", args->file, "DAG YAML file")->required();
  test->add_option("--date", args->date,
                   "logical date: YYYY-MM-DD (that day's tick in the DAG's zone) or a timestamp "
                   "(default: the latest complete interval, or today)");
  test->add_option("--conf", args->conf, "param override KEY=VALUE (repeatable)");
  test->add_option("--data-root", args->data_root,
                   "where the tasks' relative paths point (as de-worker --data-root)")
      ->capture_default_str();
  test->add_flag("--keep-home", args->keep_home,
                 "keep the temporary DE_HOME (database, task logs) after a successful run");
  test->add_option("--var", args->vars, "variable NAME=VALUE for {{ var.NAME }} (repeatable)");
  test->add_option("--secret", args->secrets,
                   "secret NAME=FILE for {{ secret.NAME }}, the value read from FILE (repeatable)");
  test->add_option("--slots", args->slots, "tasks run at once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  OnRun(test, ctx, [&ctx, args] { return Test(ctx, *args); });
}

}  // namespace de::cli
