// A built-in data task dispatched by the scheduler: the worker runs `de-worker task` in a child
// process, and its counters reach the task instance in SQLite.
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(DataTaskE2E, CsvToParquetThroughTheSchedulerReportsRowCounts) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  std::string csv = "date,delay,origin\n";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&csv, "2024-01-0", 1 + i % 3, ",", i % 50 == 0 ? "NA" : std::to_string(i % 90),
                    ",", i % 2 ? "SFO" : "JFK", "\n");
  }
  csv += "2024-01-01,not-a-number,LAX\n";   // one row that does not fit its column
  WriteFile(c.data("raw/flights-2024-01-01.csv"), csv);
  c.Submit(R"(
dag: convert
params: { raw: raw }
tasks:
  - id: convert
    type: csv_to_parquet
    with:
      input: "{{ params.raw }}/flights-2024-01-01.csv"
      output: "lake/flights/dt=2024-01-01"
      schema: { date: date, delay: int32, origin: string }
      null_values: [NA]
      compression: zstd
  - id: check
    type: shell
    needs: [convert]
    with: { command: "test -f lake/flights/dt=2024-01-01/_SUCCESS && echo manifest present" }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("convert"));
  ASSERT_EQ(run.state(), "success") << run.DebugString() << c.TaskLog(run.run_id(), "convert");
  const v1::TaskInstance* convert = nullptr;
  for (const auto& t : run.tasks()) {
    if (t.task_id() == "convert") convert = &t;
  }
  ASSERT_NE(convert, nullptr);
  EXPECT_EQ(convert->counters().at("rows_in"), 1001);
  EXPECT_EQ(convert->counters().at("rows_out"), 1000);
  EXPECT_EQ(convert->counters().at("rows_rejected"), 1);
  EXPECT_GE(convert->counters().at("files"), 1);
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run.run_id(), "check"), "manifest present"));
  // Only the finished output is visible: no temporary folder is left next to it.
  for (const auto& e : std::filesystem::directory_iterator(c.data("lake/flights"))) {
    EXPECT_FALSE(absl::StrContains(e.path().filename().string(), "tmp")) << e.path();
  }
  std::string rejects = ReadFile(c.data("lake/flights/dt=2024-01-01/_rejects.csv"));
  EXPECT_TRUE(absl::StrContains(rejects, "not-a-number")) << rejects;
}

TEST(DataTaskE2E, GarbageInputFailsTheTaskWithAClearErrorAndTheWorkerSurvives) {
  Cluster c;
  c.StartScheduler();
  Process* w = c.StartWorker("w1", 1);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  WriteFile(c.data("raw/bad.csv.gz"), garbage.substr(0, 10) + std::string("\x1f\x8b", 2));
  WriteFile(c.data("raw/binary.csv"), garbage);
  c.Submit(R"(
dag: bad
tasks:
  - { id: truncated, type: csv_to_parquet, with: { input: raw/bad.csv.gz, output: out/a } }
  - { id: binary, type: csv_to_parquet, with: { input: raw/binary.csv, output: out/b } }
  - { id: escape, type: csv_to_parquet, with: { input: /etc/passwd, output: out/c } }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("bad"));
  EXPECT_EQ(run.state(), "failed");
  for (const auto& t : run.tasks()) {
    EXPECT_EQ(t.state(), "failed") << t.task_id();
    std::string log = c.TaskLog(run.run_id(), t.task_id());
    EXPECT_FALSE(log.empty()) << t.task_id();
    if (t.task_id() == "binary") EXPECT_TRUE(absl::StrContains(log, "binary.csv")) << log;
    if (t.task_id() == "escape") EXPECT_TRUE(absl::StrContains(log, "/etc/passwd")) << log;
  }
  EXPECT_TRUE(w->Running());
  EXPECT_FALSE(std::filesystem::exists(c.data("out/a")));
}

// A failure that retrying cannot fix (here: an input outside the data root) ends the task after
// one attempt, however many retries it has, and `dectl runs show` shows the task's own message
// instead of "exit code 1".
TEST(DataTaskE2E, ConfigurationErrorsAreNotRetried) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 1);
  // What can be checked at submit time is: a misspelt key and a value not allowed.
  const std::string bad = c.data("typo.yaml");
  WriteFile(bad, "dag: typo\ntasks:\n  - id: a\n    type: csv_to_parquet\n    with:\n"
                 "      input: in.csv\n      output: out\n      compresion: lz4\n");
  std::string validate;
  EXPECT_EQ(c.Dectl({"dag", "validate", bad}, &validate), 1);
  EXPECT_TRUE(absl::StrContains(validate, bad + ":8:7: unknown csv_to_parquet parameter "
                                                "'with.compresion' (did you mean 'compression'?)"))
      << validate;
  c.Submit(R"(
dag: escape
tasks:
  - id: convert
    type: csv_to_parquet
    retries: 3
    retry_delay: 1s
    with: { input: /etc/passwd, output: out/c }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("escape"));
  EXPECT_EQ(run.state(), "failed");
  ASSERT_EQ(run.tasks_size(), 1);
  const v1::TaskInstance& t = run.tasks(0);
  EXPECT_EQ(t.state(), "failed");
  EXPECT_EQ(t.try_number(), 1) << "not retried";
  EXPECT_TRUE(absl::StrContains(t.error(), "input '/etc/passwd' is outside the data root"))
      << t.error();
  std::string out;
  EXPECT_EQ(c.Dectl({"runs", "show", run.run_id()}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "is outside the data root")) << out;
  EXPECT_FALSE(absl::StrContains(out, "exit code 1")) << out;
}

}  // namespace
}  // namespace de::testing
