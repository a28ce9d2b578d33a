// Waits on data (wait_for: path / glob) driven by a FakeClock and a fake worker that answers the
// scheduler's probes: released when the data is there, failed on timeout or on a path outside
// the data root, explained while waiting (also with no worker to ask), never lost.
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "tests/unit/server/time_fixture.h"

namespace de::sched {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class FileWaitsTest : public TimeSemanticsTest {
 protected:
  FileWaitsTest() { clock_.Set(Day(2024, 1, 18, 6)); }

  // A manual DAG whose runs wait for `waits` (YAML list items), with two tasks after.
  static std::string WaitingDag(const std::string& waits) {
    return absl::StrCat("dag: arrive\nparams: { raw_dir: raw }\nwait_for:\n", waits,
                        "tasks:\n  - { id: convert, type: noop }\n"
                        "  - { id: stats, type: noop, needs: [convert] }\n");
  }

  std::string TriggerRun(std::map<std::string, std::string> conf = {}) {
    auto r = scheduler_->Trigger("arrive", Day(2024, 1, 17), conf);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->run_id() : "";
  }

  // The probes sent since the last call (assignments are kept in pending_).
  std::vector<v1::Probe> Probes() {
    std::vector<v1::Probe> out;
    for (auto& m : channel_->Take()) {
      if (m.has_probe()) out.push_back(m.probe());
      if (m.has_assign()) pending_.push_back(m.assign());
    }
    return out;
  }

  void Answer(const v1::Probe& p, int found, const std::string& error = "",
              bool permanent = false) {
    v1::WorkerMessage m;
    m.mutable_probe_result()->set_probe_id(p.probe_id());
    m.mutable_probe_result()->set_found(found);
    m.mutable_probe_result()->set_error(error);
    m.mutable_probe_result()->set_permanent(permanent);
    scheduler_->OnWorkerMessage("w", session_, m);
  }

  v1::Run Get(const std::string& run_id) {
    auto r = scheduler_->GetRun(run_id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::Run();
  }

  std::vector<std::string> WaitingOn(const std::string& run_id) {
    v1::Run r = Get(run_id);
    return {r.waiting_on().begin(), r.waiting_on().end()};
  }
};

TEST_F(FileWaitsTest, ARunWaitsWithoutASlotAndIsReleasedWhenTheFileArrives) {
  Open();
  Connect();
  Submit(WaitingDag("  - path: \"{{ params.raw_dir }}/flights-{{ ds }}.csv.gz\"\n"));
  const std::string run = TriggerRun();
  EXPECT_EQ(Get(run).state(), "waiting");
  scheduler_->ProcessTimers();
  std::vector<v1::Probe> probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].path(), "raw/flights-2024-01-17.csv.gz");
  EXPECT_FALSE(probes[0].glob());
  EXPECT_TRUE(pending_.empty());  // no task was assigned: waiting holds no slot
  Answer(probes[0], 0);
  clock_.Advance(absl::Seconds(12));
  scheduler_->ProcessTimers();
  EXPECT_TRUE(Probes().empty());  // the next look is due after poke_interval (30s)
  EXPECT_EQ(Get(run).state(), "waiting");
  EXPECT_THAT(WaitingOn(run),
              ElementsAre("raw/flights-2024-01-17.csv.gz: not there yet (checked 12s ago)"));

  clock_.Advance(absl::Seconds(18));
  scheduler_->ProcessTimers();
  probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  Answer(probes[0], 1);
  EXPECT_NE(Get(run).state(), "waiting");
  EXPECT_TRUE(WaitingOn(run).empty());
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

TEST_F(FileWaitsTest, AGlobCountsFilesUntilMinFiles) {
  Open();
  Connect();
  Submit(
      WaitingDag("  - glob: \"raw/{{ ds }}/*.csv\"\n    min_files: 24\n"
                 "    poke_interval: 10s\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  std::vector<v1::Probe> probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].path(), "raw/2024-01-17/*.csv");
  EXPECT_TRUE(probes[0].glob());
  Answer(probes[0], 3);
  EXPECT_THAT(WaitingOn(run), ElementsAre("raw/2024-01-17/*.csv: 3 of 24 files (checked 0s ago)"));
  clock_.Advance(absl::Seconds(10));
  scheduler_->ProcessTimers();
  probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  Answer(probes[0], 24);
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

TEST_F(FileWaitsTest, ATimeoutFailsTheRunWithItsReason) {
  Open();
  Connect();
  Submit(WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n    timeout: 1m\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0);
  clock_.Advance(absl::Seconds(30));
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0);
  clock_.Advance(absl::Seconds(31));
  scheduler_->ProcessTimers();
  v1::Run r = Get(run);
  EXPECT_EQ(r.state(), "failed");
  EXPECT_EQ(r.reason(), "wait_timeout: raw/2024-01-17.csv: not there yet (checked 31s ago)");
  for (const auto& t : r.tasks()) {
    EXPECT_EQ(t.state(), "upstream_failed") << t.task_id();
    EXPECT_EQ(t.error(), "wait_timeout");
  }
  clock_.Advance(absl::Minutes(5));
  scheduler_->ProcessTimers();
  EXPECT_TRUE(Probes().empty());  // a finished run is not looked at again
}

TEST_F(FileWaitsTest, WithNoWorkerTheRunSaysSoAndTheFirstWorkerIsAskedAtOnce) {
  Open();
  Submit(WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n"));
  const std::string run = TriggerRun();
  for (int i = 0; i < 5; ++i) {
    scheduler_->ProcessTimers();
    clock_.Advance(absl::Minutes(1));
  }
  EXPECT_THAT(WaitingOn(run), ElementsAre("raw/2024-01-17.csv: no worker connected to check"));
  Connect();  // the registration itself sends the probe that was waiting for a worker
  std::vector<v1::Probe> probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  Answer(probes[0], 1);
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

TEST_F(FileWaitsTest, AProbeIsNotLostWhenItsWorkerGoesAwayOrDoesNotAnswer) {
  Open();
  Connect();
  Submit(WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  v1::Probe first = Probes().at(0);
  // No answer within FileWaits::kAnswerTimeout: asked again (after a 1s backoff).
  clock_.Advance(absl::Seconds(15));
  scheduler_->ProcessTimers();
  EXPECT_THAT(WaitingOn(run),
              ElementsAre("raw/2024-01-17.csv: no answer from worker w; asking again"));
  clock_.Advance(absl::Seconds(1));
  scheduler_->ProcessTimers();
  v1::Probe second = Probes().at(0);
  EXPECT_NE(second.probe_id(), first.probe_id());
  Answer(first, 1);  // a stale answer counts for nothing
  EXPECT_EQ(Get(run).state(), "waiting");
  // The worker's session ends with the probe out: the next session is asked.
  scheduler_->OnWorkerDisconnected("w", session_);
  Connect();
  std::vector<v1::Probe> probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  Answer(probes[0], 1);
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

TEST_F(FileWaitsTest, APathOutsideTheDataRootFailsTheRun) {
  Open();
  Connect();
  Submit(WaitingDag("  - path: \"{{ params.raw_dir }}/{{ ds }}.csv\"\n"));
  // Rendered outside the root: failed without asking anyone.
  const std::string by_text = TriggerRun({{"raw_dir", "raw/../../etc"}});
  scheduler_->ProcessTimers();
  v1::Run r = Get(by_text);
  EXPECT_EQ(r.state(), "failed");
  EXPECT_EQ(r.reason(),
            "wait_failed: wait_for path 'raw/../../etc/2024-01-17.csv' leaves the data root "
            "('..')");
  EXPECT_TRUE(Probes().empty());
  // Outside through a link: the worker says so, and it cannot get better by asking again.
  const std::string by_link = TriggerRun({{"raw_dir", "link"}});
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0, "wait_for path 'link/2024-01-17.csv' is outside the data root /d",
         true);
  r = Get(by_link);
  EXPECT_EQ(r.state(), "failed");
  EXPECT_EQ(r.reason(),
            "wait_failed: wait_for path 'link/2024-01-17.csv' is outside the data root /d");
  EXPECT_EQ(r.tasks(0).state(), "upstream_failed");
}

TEST_F(FileWaitsTest, APassingWorkerErrorIsShownAndAskedAgainWithBackoff) {
  Open();
  Connect();
  Submit(WaitingDag("  - glob: \"raw/{{ ds }}/*.csv\"\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0, "cannot read a folder it names");
  EXPECT_THAT(WaitingOn(run), ElementsAre("raw/2024-01-17/*.csv: worker w: cannot read a folder "
                                          "it names; asking again"));
  scheduler_->ProcessTimers();
  EXPECT_TRUE(Probes().empty());  // not at once: 1s, then 2s, 4s ... up to poke_interval
  clock_.Advance(absl::Seconds(1));
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0, "cannot read a folder it names");
  clock_.Advance(absl::Seconds(1));
  scheduler_->ProcessTimers();
  EXPECT_TRUE(Probes().empty());
  clock_.Advance(absl::Seconds(1));
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 2);
  EXPECT_EQ(Get(run).state(), "running");
}

TEST_F(FileWaitsTest, ExponentialBackoffDoublesThePokeInterval) {
  Open();
  Connect();
  Submit(
      WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n    poke_interval: 10s\n"
                 "    exponential_backoff: true\n"));
  TriggerRun();
  std::vector<int> looked_at;  // seconds after the trigger
  for (int s = 0; s <= 80; ++s) {
    scheduler_->ProcessTimers();
    for (const auto& p : Probes()) {
      looked_at.push_back(s);
      Answer(p, 0);
    }
    clock_.Advance(absl::Seconds(1));
  }
  EXPECT_THAT(looked_at, ElementsAre(0, 10, 30, 70));
}

TEST_F(FileWaitsTest, AWaitingRunIsCheckedAgainAfterARestart) {
  Open();
  Connect();
  Submit(WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n    timeout: 1h\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 0);
  Open();  // a new scheduler on the same database
  Connect();
  std::vector<v1::Probe> probes = Probes();
  ASSERT_EQ(probes.size(), 1u);
  Answer(probes[0], 1);
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

TEST_F(FileWaitsTest, DataAndDagWaitsMustBothBeSatisfied) {
  Open();
  Connect();
  Submit("dag: up\ntasks: [{id: t, type: noop}]\n");
  Submit(
      WaitingDag("  - path: \"raw/{{ ds }}.csv\"\n  - dag: up\n    window: {from: -1d, to: 1d}\n"));
  const std::string run = TriggerRun();
  scheduler_->ProcessTimers();
  Answer(Probes().at(0), 1);
  EXPECT_THAT(WaitingOn(run), ElementsAre(StartsWith("up: no successful run")));
  ASSERT_TRUE(scheduler_->Trigger("up", Day(2024, 1, 17), {}).ok());
  Drain();
  EXPECT_EQ(Get(run).state(), "success");
}

}  // namespace
}  // namespace de::sched
