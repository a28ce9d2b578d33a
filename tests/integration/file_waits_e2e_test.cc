// End to end with real processes: runs that wait for data under the workers' data root
// (wait_for: path / glob). dectl shows what is missing; the run is released once the file (or
// the last file of a glob) appears, and succeeds.
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

int64_t Jan17() {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilDay(2024, 1, 17), absl::UTCTimeZone()));
}

std::string TriggerJan17(Cluster& c, const std::string& dag) {
  grpc::ClientContext ctx;
  v1::TriggerRequest req;
  req.set_dag_id(dag);
  req.set_logical_date_ms(Jan17());
  v1::Run run;
  grpc::Status st = c.api().Trigger(&ctx, req, &run);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return run.run_id();
}

// Waits until `dectl runs show RUN` prints `text`; returns the last output.
std::string WaitForShow(Cluster& c, const std::string& run_id, const std::string& text) {
  std::string out;
  bool shown = WaitUntil([&] {
    return c.Dectl({"runs", "show", run_id}, &out) == 0 && absl::StrContains(out, text);
  });
  EXPECT_TRUE(shown) << "dectl never showed '" << text << "':\n" << out << "\n" << c.Logs();
  return out;
}

TEST(FileWaitsE2E, ARunWaitsForItsFileAndRunsWhenItArrives) {
  Cluster c;
  c.StartScheduler();
  c.Submit(R"yaml(
dag: arrive
params: { raw_dir: raw }
wait_for:
  - path: "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz"
    poke_interval: 1s
    timeout: 10m
tasks:
  - id: convert
    type: shell
    with: { command: "test -f raw/flights-{{ ds }}.csv.gz && echo got {{ ds }}" }
)yaml");
  const std::string run_id = TriggerJan17(c, "arrive");
  // No worker yet: nobody can look at the data root, and the run says so.
  std::string out = WaitForShow(c, run_id, "no worker connected to check");
  EXPECT_TRUE(absl::StrContains(out, "waiting")) << out;
  EXPECT_TRUE(absl::StrContains(out, "raw/flights-2024-01-17.csv.gz: no worker connected")) << out;

  c.StartWorker("w1", 1);
  out = WaitForShow(c, run_id, "raw/flights-2024-01-17.csv.gz: not there yet (checked ");
  EXPECT_EQ(c.GetRun(run_id).state(), "waiting");

  std::filesystem::create_directories(c.data("raw"));
  WriteFile(c.data("raw/.flights-2024-01-17.csv.gz.part"), "partial");
  std::filesystem::rename(c.data("raw/.flights-2024-01-17.csv.gz.part"),
                          c.data("raw/flights-2024-01-17.csv.gz"));
  v1::Run done = c.WaitRunDone(run_id);
  EXPECT_EQ(done.state(), "success") << c.Logs();
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "convert"), "got 2024-01-17"));
}

TEST(FileWaitsE2E, AGlobWithMinFilesIsReleasedByItsLastFile) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 1);
  c.Submit(R"yaml(
dag: hourly_drop
wait_for:
  - glob: "drop/{{ ds_nodash }}/*.csv"
    min_files: 3
    poke_interval: 1s
tasks:
  - id: count
    type: shell
    with: { command: "ls drop/{{ ds_nodash }} | wc -l" }
)yaml");
  const std::string run_id = TriggerJan17(c, "hourly_drop");
  WaitForShow(c, run_id, "drop/20240117/*.csv: 0 of 3 files (checked ");
  std::filesystem::create_directories(c.data("drop/20240117"));
  WriteFile(c.data("drop/20240117/00.csv"), "a\n1\n");
  WriteFile(c.data("drop/20240117/01.csv"), "a\n1\n");
  WriteFile(c.data("drop/20240117/_02.csv"), "a\n");  // still being written: not counted
  WaitForShow(c, run_id, "drop/20240117/*.csv: 2 of 3 files (checked ");
  EXPECT_EQ(c.GetRun(run_id).state(), "waiting");
  WriteFile(c.data("drop/20240117/02.csv"), "a\n1\n");
  v1::Run done = c.WaitRunDone(run_id);
  EXPECT_EQ(done.state(), "success") << c.Logs();
}

}  // namespace
}  // namespace de::testing
