// dectl's commands against an in-process fake of the Operator service: requests sent, output
// printed, exit codes. (End-to-end tests against the real scheduler live in tests/integration.)
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
#include "tests/unit/cli/cli_fixture.h"
#include "de/v1/operator.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1704078245000;  // 2024-01-01 03:04:05 UTC

de::v1::TaskInstance Task(const std::string& id, const std::string& state, int try_number,
                          int64_t started = 0, int64_t ended = 0) {
  de::v1::TaskInstance t;
  t.set_task_id(id);
  t.set_type("shell");
  t.set_state(state);
  t.set_try_number(try_number);
  t.set_max_tries(3);
  t.set_started_at_ms(started);
  t.set_ended_at_ms(ended);
  return t;
}

de::v1::Run MakeRun(const std::string& state, std::vector<de::v1::TaskInstance> tasks) {
  de::v1::Run r;
  r.set_run_id("manual__2024-01-01T00:00:00");
  r.set_dag_id("hello");
  r.set_dag_version(2);
  r.set_run_type("manual");
  r.set_state(state);
  r.set_logical_date_ms(kT0);
  r.set_started_at_ms(kT0);
  if (state == "success" || state == "failed") r.set_ended_at_ms(kT0 + 184000);
  for (auto& t : tasks) *r.add_tasks() = t;
  return r;
}

class FakeOperator final : public de::v1::Operator::Service {
 public:
  grpc::Status SubmitDag(grpc::ServerContext* c, const de::v1::SubmitDagRequest* req,
                         de::v1::SubmitDagResponse* resp) override {
    Record(c);
    if (req->yaml().find("broken") != std::string::npos) {
      auto* d = resp->add_errors();
      d->set_file(req->source());
      d->set_line(3);
      d->set_column(7);
      d->set_message("broken thing");
      return grpc::Status::OK;
    }
    resp->set_dag_id("hello");
    resp->set_version(4);
    resp->set_changed(req->source().find("new") != std::string::npos);
    return grpc::Status::OK;
  }

  grpc::Status ListDags(grpc::ServerContext* c, const de::v1::ListDagsRequest*,
                        de::v1::ListDagsResponse* resp) override {
    Record(c);
    auto* d = resp->add_dags();
    d->set_dag_id("hello");
    d->set_version(4);
    d->set_schedule("@daily");
    d->set_task_count(2);
    d->set_last_run_state("success");
    d->set_last_run_logical_date_ms(kT0);
    d->set_timezone("Europe/Berlin");
    d->set_next_run_logical_date_ms(1711846800000);   // 2024-03-31 01:00 UTC = 03:00 +02:00
    d->set_next_run_created_at_ms(1711933200000);     // a day later
    auto* m = resp->add_dags();
    m->set_dag_id("manual_only");
    m->set_version(1);
    m->set_paused(true);
    return grpc::Status::OK;
  }

  grpc::Status GetDag(grpc::ServerContext* c, const de::v1::GetDagRequest* req,
                      de::v1::Dag* resp) override {
    Record(c);
    if (req->dag_id() != "hello") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no DAG x");
    resp->mutable_summary()->set_dag_id("hello");
    resp->mutable_summary()->set_version(req->version() == 0 ? 4 : req->version());
    resp->mutable_summary()->set_schedule("0 3 * * *");
    resp->mutable_summary()->set_timezone("Europe/Berlin");
    resp->mutable_summary()->set_next_run_logical_date_ms(1711764000000);   // 03-30 03:00 +01:00
    resp->mutable_summary()->set_next_run_created_at_ms(1711846800000);
    resp->set_yaml(req->version() == 3 ? "dag: hello\n"
                                       : "dag: hello\nschedule: \"0 3 * * *\"\n"
                                         "timezone: Europe/Berlin\nstart_date: 2024-01-01\n"
                                         "tasks: [{id: a, type: noop}]\n");
    for (int v : {1, 2, 3, 4}) resp->add_versions(v);
    auto* t = resp->add_tasks();
    t->set_task_id("a");
    t->set_type("shell");
    t->set_retries(2);
    t->set_timeout_ms(3600000);
    t->set_pool("default");
    return grpc::Status::OK;
  }

  grpc::Status SetDagPaused(grpc::ServerContext* c, const de::v1::SetDagPausedRequest* req,
                            de::v1::DagSummary* resp) override {
    Record(c);
    resp->set_dag_id(req->dag_id());
    resp->set_paused(req->paused());
    return grpc::Status::OK;
  }

  grpc::Status Trigger(grpc::ServerContext* c, const de::v1::TriggerRequest* req,
                       de::v1::Run* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    last_trigger_ = *req;
    *resp = MakeRun("queued", {});
    return grpc::Status::OK;
  }

  grpc::Status ListRuns(grpc::ServerContext* c, const de::v1::ListRunsRequest* req,
                        de::v1::ListRunsResponse* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    last_list_runs_ = *req;
    *resp->add_runs() = MakeRun("success", {});
    return grpc::Status::OK;
  }

  grpc::Status GetRun(grpc::ServerContext* c, const de::v1::GetRunRequest* req,
                      de::v1::Run* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    if (run_script_.empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("run ", req->run_id(), " not found"));
    }
    *resp = run_script_[std::min(get_run_calls_++, run_script_.size() - 1)];
    return grpc::Status::OK;
  }

  grpc::Status CancelRun(grpc::ServerContext* c, const de::v1::CancelRunRequest* req,
                         de::v1::Run* resp) override {
    Record(c);
    *resp = MakeRun("cancelled", {});
    return grpc::Status::OK;
  }

  grpc::Status ClearRun(grpc::ServerContext* c, const de::v1::ClearRunRequest* req,
                        de::v1::Run* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    last_clear_ = *req;
    *resp = MakeRun("queued", {});
    return grpc::Status::OK;
  }

  // Serves log_ in pieces of at most 4 bytes; the log "grows" by 6 bytes per call.
  grpc::Status GetTaskLog(grpc::ServerContext* c, const de::v1::GetTaskLogRequest* req,
                          de::v1::GetTaskLogResponse* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    log_requests_.push_back(*req);
    if (log_not_found_calls_ > 0) {
      --log_not_found_calls_;
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "task has not started any attempt");
    }
    available_ = std::min(available_ + 6, log_.size());
    size_t from = std::min<size_t>(req->offset(), available_);
    size_t n = std::min<size_t>(4, available_ - from);
    resp->set_data(log_.substr(from, n));
    resp->set_next_offset(from + n);
    resp->set_try_number(2);
    resp->set_finished(available_ == log_.size() && from + n == log_.size());
    return grpc::Status::OK;
  }

  grpc::Status ListWorkers(grpc::ServerContext* c, const de::v1::ListWorkersRequest*,
                           de::v1::ListWorkersResponse* resp) override {
    Record(c);
    auto* w = resp->add_workers();
    w->set_name("worker-1");
    w->set_state("connected");
    w->set_slots(8);
    w->set_busy(3);
    w->add_pools("default");
    w->add_pools("io");
    w->set_version("0.1.0");
    w->set_last_seen_ms(kT0);
    return grpc::Status::OK;
  }

  grpc::Status CreateBackfill(grpc::ServerContext* c, const de::v1::CreateBackfillRequest* req,
                              de::v1::Backfill* resp) override {
    Record(c);
    absl::MutexLock lock(&mu_);
    last_backfill_ = *req;
    resp->set_backfill_id("bf-1");
    resp->set_dag_id(req->dag_id());
    resp->set_from_ms(req->from_ms());
    resp->set_to_ms(req->to_ms());
    resp->set_total(3);
    if (req->dry_run()) {
      resp->add_logical_dates_ms(req->from_ms());
      resp->add_keep_dates_ms(req->from_ms() + 86400000LL);
      resp->add_logical_dates_ms(req->from_ms() + 2 * 86400000LL);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetBackfill(grpc::ServerContext* c, const de::v1::GetBackfillRequest* req,
                           de::v1::Backfill* resp) override {
    Record(c);
    resp->set_backfill_id(req->backfill_id());
    resp->set_dag_id("hello");
    resp->set_state("running");
    resp->set_total(31);
    (*resp->mutable_runs_by_state())["success"] = 10;
    (*resp->mutable_runs_by_state())["failed"] = 2;
    (*resp->mutable_runs_by_state())["running"] = 4;
    (*resp->mutable_runs_by_state())["queued"] = 15;
    return grpc::Status::OK;
  }

  grpc::Status CancelBackfill(grpc::ServerContext* c, const de::v1::GetBackfillRequest* req,
                              de::v1::Backfill* resp) override {
    Record(c);
    resp->set_backfill_id(req->backfill_id());
    resp->set_state("cancelled");
    return grpc::Status::OK;
  }

  void SetRunScript(std::vector<de::v1::Run> runs) {
    absl::MutexLock lock(&mu_);
    run_script_ = std::move(runs);
    get_run_calls_ = 0;
  }
  void SetLog(std::string log) {
    absl::MutexLock lock(&mu_);
    log_ = std::move(log);
    available_ = 0;
  }
  template <typename T>
  T Get(T FakeOperator::*field) {
    absl::MutexLock lock(&mu_);
    return this->*field;
  }

  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  de::v1::TriggerRequest last_trigger_ ABSL_GUARDED_BY(mu_);
  de::v1::ListRunsRequest last_list_runs_ ABSL_GUARDED_BY(mu_);
  de::v1::ClearRunRequest last_clear_ ABSL_GUARDED_BY(mu_);
  de::v1::CreateBackfillRequest last_backfill_ ABSL_GUARDED_BY(mu_);
  std::vector<de::v1::GetTaskLogRequest> log_requests_ ABSL_GUARDED_BY(mu_);
  int log_not_found_calls_ ABSL_GUARDED_BY(mu_) = 0;

 private:
  void Record(grpc::ServerContext* c) {
    absl::MutexLock lock(&mu_);
    auto it = c->client_metadata().find("authorization");
    authorization_ =
        it == c->client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
  }

  std::vector<de::v1::Run> run_script_ ABSL_GUARDED_BY(mu_);
  size_t get_run_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string log_ ABSL_GUARDED_BY(mu_);
  size_t available_ ABSL_GUARDED_BY(mu_) = 0;
};

using CommandsTest = CliFixture<FakeOperator>;

TEST_F(CommandsTest, SubmitPrintsVersionOrDiagnostics) {
  char new_file[] = "/tmp/de-cli-new-XXXXXX";
  int fd = ::mkstemp(new_file);
  ASSERT_GE(fd, 0);
  ::close(fd);
  Result r = Cli({"dag", "submit", new_file});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "submitted hello version 4\n");

  char broken[] = "/tmp/de-cli-XXXXXX";
  fd = ::mkstemp(broken);
  ASSERT_EQ(::write(fd, "broken\n", 7), 7);
  ::close(fd);
  r = Cli({"dag", "submit", broken});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, absl::StrCat(broken, ":3:7: broken thing\n"));
  ::unlink(broken);
  ::unlink(new_file);

  r = Cli({"dag", "submit", "/nonexistent.yaml"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.yaml: cannot read file"));
}

TEST_F(CommandsTest, TriggerSendsDateConfAndToken) {
  Result r = Cli({"--token", "s3cret", "trigger", "hello", "--conf", "a=1", "--date",
                  "2024-01-31T03:00:00+01:00", "--conf", "b=x=y"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "manual__2024-01-01T00:00:00\n");
  auto req = fake_.Get(&FakeOperator::last_trigger_);
  EXPECT_EQ(req.dag_id(), "hello");
  EXPECT_EQ(req.logical_date_ms(), 1706659200000 + 2 * 3600000);
  EXPECT_EQ(req.conf().at("a"), "1");
  EXPECT_EQ(req.conf().at("b"), "x=y");
  EXPECT_EQ(fake_.Get(&FakeOperator::authorization_), "Bearer s3cret");

  // Without --date: 0 (= now, decided by the scheduler); token from the environment.
  ::setenv("DE_TOKEN", "from-env", 1);
  r = Cli({"trigger", "hello"});
  ::unsetenv("DE_TOKEN");
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(fake_.Get(&FakeOperator::last_trigger_).logical_date_ms(), 0);
  EXPECT_EQ(fake_.Get(&FakeOperator::authorization_), "Bearer from-env");
}

TEST_F(CommandsTest, TriggerWaitPrintsEachChangeOnceAndExitsZeroOnSuccess) {
  fake_.SetRunScript({
      MakeRun("queued", {Task("a", "scheduled", 0), Task("b", "scheduled", 0)}),
      MakeRun("queued", {Task("a", "scheduled", 0), Task("b", "scheduled", 0)}),
      MakeRun("running", {Task("a", "running", 1, kT0 + 1000), Task("b", "scheduled", 0)}),
      MakeRun("running", {Task("a", "success", 1, kT0 + 1000, kT0 + 2000),
                          Task("b", "running", 1, kT0 + 3000)}),
      MakeRun("success", {Task("a", "success", 1, kT0 + 1000, kT0 + 2000),
                          Task("b", "success", 1, kT0 + 3000, kT0 + 4000)}),
  });
  Result r = Cli({"trigger", "hello", "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 10u) << r.out;
  EXPECT_EQ(lines[0], "manual__2024-01-01T00:00:00");
  EXPECT_THAT(lines[1], testing::EndsWith(" run queued"));
  EXPECT_THAT(lines[2], testing::EndsWith(" a scheduled"));
  EXPECT_THAT(lines[3], testing::EndsWith(" b scheduled"));
  EXPECT_THAT(lines[4], testing::EndsWith(" run running"));
  EXPECT_EQ(lines[5], "03:04:06 a running (try 1)");
  EXPECT_EQ(lines[6], "03:04:07 a success (try 1)");
  EXPECT_EQ(lines[7], "03:04:08 b running (try 1)");
  EXPECT_EQ(lines[8], "03:04:09 b success (try 1)");
  EXPECT_EQ(lines[9], "03:07:09 run manual__2024-01-01T00:00:00 success in 3m04s");
}

TEST_F(CommandsTest, TriggerWaitPrintsADataWaitAgainOnlyWhenMoreThanItsAgeChanged) {
  auto waiting = [](std::vector<std::string> lines) {
    de::v1::Run r = MakeRun("waiting", {Task("a", "scheduled", 0)});
    for (const auto& l : lines) r.add_waiting_on(l);
    return r;
  };
  fake_.SetRunScript({
      waiting({"raw/*.csv: 1 of 3 files (checked 1s ago)"}),
      waiting({"raw/*.csv: 1 of 3 files (checked 2s ago)"}),
      waiting({"raw/*.csv: 1 of 3 files (checked 13s ago)"}),
      waiting({"raw/*.csv: 2 of 3 files (checked 0s ago)"}),
      MakeRun("success", {Task("a", "success", 1, kT0 + 1000, kT0 + 2000)}),
  });
  Result r = Cli({"trigger", "hello", "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  waiting on raw/*.csv: 1 of 3 files (checked 1s ago)\n"));
  EXPECT_THAT(r.out, HasSubstr("  waiting on raw/*.csv: 2 of 3 files (checked 0s ago)\n"));
  std::vector<std::string> lines = absl::StrSplit(r.out, "waiting on ");
  EXPECT_EQ(lines.size(), 3u) << r.out;   // printed twice, not on every poll
}

TEST_F(CommandsTest, TriggerWaitExitsOneWhenTheRunFails) {
  de::v1::TaskInstance failed = Task("a", "failed", 3, kT0, kT0 + 500);
  failed.set_error("exit code 2");
  de::v1::Run run = MakeRun("failed", {failed});
  run.set_reason("task a failed");
  fake_.SetRunScript({run});
  Result r = Cli({"trigger", "hello", "--wait"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("a failed (try 3): exit code 2\n"));
  EXPECT_THAT(r.out, HasSubstr("run manual__2024-01-01T00:00:00 failed in 3m04s (task a failed)"));

  r = Cli({"--output", "json", "trigger", "hello", "--wait"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_THAT(r.out, HasSubstr("\"state\": \"failed\""));
}

TEST_F(CommandsTest, RunsShow) {
  de::v1::TaskInstance a = Task("convert", "success", 1, kT0, kT0 + 1234);
  a.set_worker("w1");
  de::v1::TaskInstance b = Task("clean", "up_for_retry", 2, kT0 + 2000, kT0 + 3000);
  b.set_error("exit code 1\nmore detail");
  b.set_next_retry_at_ms(kT0 + 33000);
  de::v1::Run run = MakeRun("running", {a, b});
  run.set_data_interval_start_ms(kT0);
  run.set_data_interval_end_ms(kT0 + 86400000);
  run.add_waiting_on("flights_daily: 29 of 31 intervals done; missing 2024-01-17, 2024-01-30");
  (*run.mutable_conf())["k"] = "v";
  fake_.SetRunScript({run});
  Result r = Cli({"runs", "show", "manual__2024-01-01T00:00:00"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dag:          hello (version 2)\n"));
  EXPECT_THAT(r.out, HasSubstr("state:        running\n"));
  EXPECT_THAT(r.out, HasSubstr("interval:     2024-01-01 03:04:05 -> 2024-01-02 03:04:05\n"));
  EXPECT_THAT(r.out, HasSubstr("conf:         k=v\n"));
  EXPECT_THAT(r.out, HasSubstr("waiting on:\n  flights_daily: 29 of 31 intervals done"));
  EXPECT_THAT(
      r.out,
      HasSubstr("TASK     TYPE   STATE                         TRIES  DURATION  WORKER  ERROR\n"
                "convert  shell  success                       1/3    1.2s      w1\n"
                "clean    shell  up_for_retry (next 03:04:38)  2/3    1.0s      -       "
                "exit code 1...\n"));
}

TEST_F(CommandsTest, RunsShowNotFoundExitsOne) {
  Result r = Cli({"runs", "show", "r9"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "dectl: run r9 not found\n");
}

TEST_F(CommandsTest, RunsListPassesFilters) {
  Result r = Cli({"runs", "list", "hello", "--state", "failed", "--limit", "5"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  auto req = fake_.Get(&FakeOperator::last_list_runs_);
  EXPECT_EQ(req.dag_id(), "hello");
  EXPECT_EQ(req.state(), "failed");
  EXPECT_EQ(req.limit(), 5);
  EXPECT_THAT(r.out, HasSubstr("RUN                          DAG    TYPE    STATE"));
  EXPECT_THAT(r.out, HasSubstr("2024-01-01 03:04:05  2024-01-01 03:04:05  3m04s\n"));
}

TEST_F(CommandsTest, CancelAndClear) {
  Result r = Cli({"runs", "cancel", "r1"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("run is cancelled"));

  r = Cli({"clear", "r1", "--task", "a", "--task", "b", "--downstream", "--failed-only"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  auto req = fake_.Get(&FakeOperator::last_clear_);
  EXPECT_EQ(req.run_id(), "r1");
  EXPECT_THAT(req.task_ids(), ElementsAre("a", "b"));
  EXPECT_TRUE(req.downstream());
  EXPECT_TRUE(req.failed_only());
}

TEST_F(CommandsTest, LogsFollowReadsEverythingAndPinsTheAttempt) {
  const std::string log = "line one\nline two\nthe end\n";
  fake_.SetLog(log);
  Result r = Cli({"logs", "r1", "convert", "-f"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, log);
  auto requests = fake_.Get(&FakeOperator::log_requests_);
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].try_number(), 0);
  EXPECT_EQ(requests[0].offset(), 0);
  EXPECT_EQ(requests[1].try_number(), 2);
  EXPECT_EQ(requests.back().offset(), static_cast<int64_t>(log.size()));
}

TEST_F(CommandsTest, LogsFollowWaitsForTheFirstAttempt) {
  fake_.SetLog("hello\n");
  fake_.SetRunScript({MakeRun("queued", {Task("convert", "queued", 0)})});
  {
    absl::MutexLock lock(&fake_.mu_);
    fake_.log_not_found_calls_ = 3;
  }
  Result r = Cli({"logs", "r1", "convert", "-f"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "hello\n");

  // Without -f, or when the task can no longer start, "not found" is the answer.
  {
    absl::MutexLock lock(&fake_.mu_);
    fake_.log_not_found_calls_ = 1;
  }
  r = Cli({"logs", "r1", "convert"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "dectl: task has not started any attempt\n");

  fake_.SetRunScript({MakeRun("failed", {Task("convert", "upstream_failed", 0)})});
  {
    absl::MutexLock lock(&fake_.mu_);
    fake_.log_not_found_calls_ = 1;
  }
  r = Cli({"logs", "r1", "convert", "-f"});
  EXPECT_EQ(r.code, kExitFailed);
}

TEST_F(CommandsTest, LogsJsonIsOneDocument) {
  fake_.SetLog("abc\n");
  Result r = Cli({"logs", "r1", "convert", "--attempt", "2", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"data\": \"YWJjCg==\""));  // base64 of "abc\n"
  EXPECT_EQ(fake_.Get(&FakeOperator::log_requests_)[0].try_number(), 2);
}

TEST_F(CommandsTest, WorkersTable) {
  Result r = Cli({"workers"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NAME      STATE      SLOTS  BUSY  POOLS       VERSION  LAST SEEN\n"
                               "worker-1  connected  8      3     default,io  0.1.0    "
                               "2024-01-01 03:04:05 ("));
}

TEST_F(CommandsTest, DagListShowPause) {
  Result r = Cli({"dag", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello        4        no      @daily"));
  EXPECT_THAT(r.out, HasSubstr("manual_only  1        yes     (manual)"));

  r = Cli({"dag", "show", "hello", "--version", "3"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("version:      3 (stored: 1, 2, 3, 4)\n"));
  EXPECT_THAT(r.out, HasSubstr("a     shell  -      2        1h00m    default\n"));
  // Version 3's YAML (no tasks) does not load: the next runs are not shown, and it says why.
  EXPECT_THAT(r.out, HasSubstr("\nnext runs: not shown: this dectl does not load the stored YAML ("));
  EXPECT_THAT(r.out, HasSubstr("tasks must be a non-empty list)\n"));

  // The next run with its zone and creation time; the next intervals across the spring change.
  r = Cli({"dag", "show", "hello", "--next", "2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("next run:     2024-03-30 03:00 +01:00 Europe/Berlin, created "
                               "2024-03-31 03:00 +02:00\n"));
  EXPECT_THAT(r.out, HasSubstr("1  2024-03-30 03:00 +01:00       2024-03-30 02:00    "
                               "2024-03-31 03:00 +02:00     2024-03-31 01:00  23h00m\n"));
  EXPECT_THAT(r.out, HasSubstr("2  2024-03-31 03:00 +02:00       2024-03-31 01:00    "
                               "2024-04-01 03:00 +02:00     2024-04-01 01:00  1d00h\n"));
  r = Cli({"dag", "list"});
  EXPECT_THAT(r.out, HasSubstr("2024-03-31 03:00 +02:00 Europe/Berlin, created 2024-04-01 03:00 "
                               "+02:00"));

  r = Cli({"dag", "show", "hello", "--yaml", "--version", "3"});
  EXPECT_EQ(r.out, "dag: hello\n");

  r = Cli({"dag", "show", "x"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "dectl: no DAG x\n");

  EXPECT_EQ(Cli({"pause", "hello"}).out, "paused hello\n");
  EXPECT_EQ(Cli({"dag", "unpause", "hello"}).out, "unpaused hello\n");
}

TEST_F(CommandsTest, BackfillCreateStatusCancel) {
  Result r = Cli({"backfill", "hello", "--from", "2024-01-01", "--to", "2024-01-03", "--rerun",
                  "failed", "--reverse", "--max-active", "2", "--conf", "k=v"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("backfill bf-1: 3 runs of hello from 2024-01-01 00:00:00"));
  auto req = fake_.Get(&FakeOperator::last_backfill_);
  EXPECT_EQ(req.from_ms(), 1704067200000);
  EXPECT_EQ(req.to_ms(), 1704067200000 + 2 * 86400000LL);
  EXPECT_EQ(req.rerun(), "failed");
  EXPECT_TRUE(req.reverse());
  EXPECT_EQ(req.max_active(), 2);
  EXPECT_FALSE(req.dry_run());
  EXPECT_EQ(req.conf().at("k"), "v");
  EXPECT_TRUE(req.from_is_date());   // dates: the server reads them in the DAG's time zone
  EXPECT_TRUE(req.to_is_date());

  r = Cli({"backfill", "hello", "--from", "2024-01-01T03:00:00Z", "--to", "2024-01-03", "--dry-run"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  req = fake_.Get(&FakeOperator::last_backfill_);
  EXPECT_FALSE(req.from_is_date());
  EXPECT_TRUE(req.to_is_date());
  EXPECT_EQ(r.out,
            "dry run: 3 intervals of hello from 2024-01-01 03:00:00 to 2024-01-03 00:00:00 (UTC; "
            "rerun none)\n"
            "would create 2 runs:\n  2024-01-01 03:00:00\n  2024-01-03 03:00:00\n"
            "would keep 1 run:\n  2024-01-02 03:00:00\n"
            "would rerun 0 runs\n");

  r = Cli({"backfill", "status", "bf-1"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("STATE    RUNS\nqueued   15\nrunning  4\nsuccess  10\nfailed   2\n"));
  EXPECT_THAT(r.out, HasSubstr("[###########-------------------] 12/31 (38%)\n"));

  r = Cli({"backfill", "cancel", "bf-1"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "cancelled backfill bf-1: cancelled\n");
}

TEST_F(CommandsTest, JsonOutputIsTheResponse) {
  Result r = Cli({"workers", "--output", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("\"workers\": ["));
  EXPECT_THAT(r.out, HasSubstr("\"name\": \"worker-1\""));
  EXPECT_THAT(r.out, Not(HasSubstr("NAME")));
}

}  // namespace
}  // namespace de::cli
