// dectl's answers that point at the right place, against an in-process fake: colours on a
// terminal only (and never with NO_COLOR), `trigger --wait`'s ending and its progress line on a
// large run, what `clear` cleared, and `dag delete`'s confirmation.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cli/format.h"
#include "de/v1/operator.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/cli/cli_fixture.h"

namespace de::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1704078245000;  // 2024-01-01 03:04:05 UTC

de::v1::Run MakeRun(const std::string& state, int tasks, int done, int failed = 0) {
  de::v1::Run r;
  r.set_run_id("big__manual__1");
  r.set_dag_id("big");
  r.set_state(state);
  r.set_started_at_ms(kT0);
  if (state == "success" || state == "failed") r.set_ended_at_ms(kT0 + 60000);
  for (int i = 0; i < tasks; ++i) {
    de::v1::TaskInstance* t = r.add_tasks();
    t->set_task_id(absl::StrCat("t", i));
    t->set_state(i < failed ? "failed" : i < done ? "success" : i < done + 2 ? "running" : "scheduled");
    if (i < failed) t->set_error("exit code 3");
    t->set_try_number(i < done + 2 ? 1 : 0);
    t->set_ended_at_ms(i < done ? kT0 + 1000 : 0);
  }
  return r;
}

class Fake final : public de::v1::Operator::Service {
 public:
  grpc::Status Trigger(grpc::ServerContext*, const de::v1::TriggerRequest*,
                       de::v1::Run* resp) override {
    absl::MutexLock lock(&mu_);
    *resp = script_.front();
    return grpc::Status::OK;
  }
  grpc::Status GetRun(grpc::ServerContext*, const de::v1::GetRunRequest*,
                      de::v1::Run* resp) override {
    absl::MutexLock lock(&mu_);
    *resp = script_[std::min(calls_++, script_.size() - 1)];
    return grpc::Status::OK;
  }
  grpc::Status ListRuns(grpc::ServerContext*, const de::v1::ListRunsRequest*,
                        de::v1::ListRunsResponse* resp) override {
    absl::MutexLock lock(&mu_);
    for (const char* s : {"success", "failed", "running"}) {
      de::v1::Run* r = resp->add_runs();
      r->set_run_id(absl::StrCat("r_", s));
      r->set_dag_id("d");
      r->set_run_type("manual");
      r->set_state(s);
    }
    return grpc::Status::OK;
  }
  grpc::Status ClearRun(grpc::ServerContext*, const de::v1::ClearRunRequest* req,
                        de::v1::Run* resp) override {
    resp->set_run_id(req->run_id());
    resp->set_state("queued");
    for (const auto& t : req->task_ids()) resp->add_cleared_task_ids(t);
    return grpc::Status::OK;
  }
  grpc::Status DeleteDag(grpc::ServerContext*, const de::v1::DeleteDagRequest*,
                         de::v1::DeleteDagResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++deletes_;
    resp->set_runs_deleted(4);
    resp->set_log_dirs_deleted(3);
    return grpc::Status::OK;
  }

  void SetScript(std::vector<de::v1::Run> runs) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(runs);
    calls_ = 0;
  }
  int deletes() {
    absl::MutexLock lock(&mu_);
    return deletes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<de::v1::Run> script_ ABSL_GUARDED_BY(mu_);
  size_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  int deletes_ ABSL_GUARDED_BY(mu_) = 0;
};

using ProgressCommandsTest = CliFixture<Fake>;

TEST_F(ProgressCommandsTest, StatesAreColouredOnATerminalOnly) {
  Result plain = Cli({"runs", "list"});
  EXPECT_THAT(plain.out, Not(HasSubstr("\x1b[")));
  out_is_tty_ = true;
  Result tty = Cli({"runs", "list"});
  EXPECT_THAT(tty.out, HasSubstr("\x1b[32msuccess\x1b[0m"));
  EXPECT_THAT(tty.out, HasSubstr("\x1b[31mfailed\x1b[0m"));
  // The columns stay aligned: without the escapes the table is the plain one.
  std::string stripped = tty.out;
  for (const char* code : {"\x1b[32m", "\x1b[31m", "\x1b[34m", "\x1b[0m"}) {
    stripped = absl::StrReplaceAll(stripped, {{code, ""}});
  }
  EXPECT_EQ(stripped, plain.out);
  no_color_ = true;  // NO_COLOR=1
  EXPECT_THAT(Cli({"runs", "list"}).out, Not(HasSubstr("\x1b[")));
  EXPECT_EQ(DisplayWidth("\x1b[32msuccess\x1b[0m"), 7u);
  EXPECT_EQ(ColourState("failed", false), "failed");
}

TEST_F(ProgressCommandsTest, FailedWaitEndsWithTheLogsCommands) {
  fake_.SetScript({MakeRun("running", 8, 0), MakeRun("failed", 8, 8, 7)});
  Result r = Cli({"trigger", "big", "--wait"});
  EXPECT_EQ(r.code, kExitFailed);
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 7u) << r.out;
  EXPECT_THAT(lines[lines.size() - 7], HasSubstr("run big__manual__1 failed in 1m00s"));
  EXPECT_EQ(lines[lines.size() - 6], "see the log: dectl logs big__manual__1 t0");
  EXPECT_EQ(lines[lines.size() - 2], "see the log: dectl logs big__manual__1 t4");
  EXPECT_EQ(lines.back(), "(2 more failed tasks: dectl runs show big__manual__1)");

  fake_.SetScript({MakeRun("success", 2, 2)});
  r = Cli({"trigger", "big", "--wait"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, Not(HasSubstr("dectl logs")));
}

TEST_F(ProgressCommandsTest, LargeRunPrintsAProgressLineNotALinePerTask) {
  fake_.SetScript({MakeRun("running", 3000, 0), MakeRun("running", 3000, 1000),
                   MakeRun("running", 3000, 2000, 1), MakeRun("success", 3000, 3000)});
  progress_interval_ = absl::ZeroDuration();  // a summary each poll that changes it
  Result r = Cli({"trigger", "big", "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_LT(lines.size(), 12u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("] 1000/3000 (33%)  2 running"));
  EXPECT_THAT(r.out, HasSubstr("] 3000/3000 (100%)"));
  EXPECT_THAT(r.out, HasSubstr(" t0 failed (try 1): exit code 3\n"));  // failures still show
  EXPECT_THAT(r.out, Not(HasSubstr("\r")));

  // On a terminal: one line rewritten in place.
  out_is_tty_ = true;
  no_color_ = true;
  progress_interval_ = absl::Seconds(10);
  fake_.SetScript({MakeRun("running", 3000, 0), MakeRun("running", 3000, 1500),
                   MakeRun("success", 3000, 3000)});
  r = Cli({"trigger", "big", "--wait"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("\r"));
  EXPECT_THAT(r.out, HasSubstr("] 1500/3000 (50%)"));
  lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_LT(lines.size(), 6u) << r.out;
}

TEST_F(ProgressCommandsTest, ClearSaysWhatItCleared) {
  Result r = Cli({"clear", "r1", "--task", "a", "--task", "b"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "cleared 2 tasks of r1: a, b; run is queued\n");
  r = Cli({"clear", "r1", "--task", "a"});
  EXPECT_EQ(r.out, "cleared 1 task of r1: a; run is queued\n");
}

TEST_F(ProgressCommandsTest, DagDeleteAsksOnATerminalAndNeedsYesWithout) {
  Result r = Cli({"dag", "delete", "d"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("not confirmed (stdin is not a terminal; pass --yes to confirm)"));
  EXPECT_EQ(fake_.deletes(), 0);

  in_is_tty_ = true;
  input_ = "n\n";
  r = Cli({"dag", "delete", "d"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("delete DAG d with all its versions, runs and logs? [y/N] "));
  EXPECT_THAT(r.err, HasSubstr("DAG d not deleted"));
  EXPECT_EQ(fake_.deletes(), 0);

  input_ = "yes\n";
  r = Cli({"dag", "delete", "d"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "deleted d (4 runs, 3 log folders)\n");
  EXPECT_EQ(fake_.deletes(), 1);

  in_is_tty_ = false;
  r = Cli({"dag", "delete", "--yes", "d"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake_.deletes(), 2);
}

}  // namespace
}  // namespace de::cli
