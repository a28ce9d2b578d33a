// Mapped tasks (for_each) with real processes: a shell task over 1,000 items spread over three
// workers, its downstream running once after all of them, what dectl and the JSON API show; and
// csv_to_parquet mapped over the files of a glob (listed by a worker).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

int Count(const v1::Run& run, const std::string& task, const std::string& state) {
  int n = 0;
  for (const auto& t : run.tasks()) n += t.map_task() == task && t.state() == state;
  return n;
}

TEST(MappingE2E, AThousandShellInstancesOnThreeWorkersThenDownstreamOnce) {
  Cluster c;
  c.StartScheduler();
  for (const char* w : {"w1", "w2", "w3"}) c.StartWorker(w, 4);
  std::string items;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&items, i ? ", " : "", "n", i);
  c.Submit(absl::StrCat(R"(
dag: fan
tasks:
  - id: mk
    type: shell
    with: { command: "mkdir -p out" }
  - id: conv
    type: shell
    needs: [mk]
    for_each: [)", items, R"(]
    with: { command: "echo {{ item }} > out/{{ item }}.txt" }
  - id: after
    type: shell
    needs: [conv]
    with: { command: "ls out | wc -l > count.txt; echo after-ran >> runs.txt" }
)"));
  const std::string run_id = c.Trigger("fan");
  v1::Run run = c.WaitRunDone(run_id, absl::Seconds(300));
  ASSERT_EQ(run.state(), "success") << c.Logs();
  EXPECT_EQ(Count(run, "conv", "success"), 1000);
  std::set<std::string> workers;
  std::map<std::string, int> attempts;
  int64_t last_instance_end = 0;
  int64_t after_start = 0;
  for (const auto& t : run.tasks()) {
    if (t.map_task() == "conv") {
      workers.insert(t.worker());
      last_instance_end = std::max(last_instance_end, t.ended_at_ms());
    }
    if (t.task_id() == "after") after_start = t.started_at_ms();
    if (t.task_id() == "conv") EXPECT_EQ(t.map_count(), 1000);
  }
  for (const auto& a : run.attempts()) attempts[a.task_id()]++;
  EXPECT_EQ(workers, (std::set<std::string>{"w1", "w2", "w3"})) << "spread over all workers";
  EXPECT_EQ(attempts["after"], 1);
  EXPECT_EQ(attempts["conv[999]"], 1);
  EXPECT_GE(after_start, last_instance_end) << "downstream started after every instance ended";
  EXPECT_EQ(ReadFile(c.data("count.txt")), "1000\n");
  EXPECT_EQ(ReadFile(c.data("runs.txt")), "after-ran\n");
  EXPECT_EQ(ReadFile(c.data("out/n417.txt")), "n417\n");

  std::string out;
  ASSERT_EQ(c.Dectl({"runs", "show", run_id}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "success [1000] success 1000")) << out;
  EXPECT_FALSE(absl::StrContains(out, "conv[5]")) << "succeeded instances are counted, not listed";
  ASSERT_EQ(c.Dectl({"runs", "show", run_id, "--instances"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "  conv[999]")) << out;
  ASSERT_EQ(c.Dectl({"logs", run_id, "conv[7]"}, &out), 0) << out;

  // The JSON API lists every instance as its own task row.
  const std::string addr = c.http_address();
  httplib::Client http(addr.substr(0, addr.rfind(':')), std::stoi(addr.substr(addr.rfind(':') + 1)));
  auto res = http.Get(("/api/v1/runs/" + run_id).c_str());
  ASSERT_TRUE(res) << "no HTTP answer";
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(absl::StrContains(res->body, "\"taskId\": \"conv[999]\"") ||
              absl::StrContains(res->body, "\"taskId\":\"conv[999]\""))
      << res->body.substr(0, 2000);
}

TEST(MappingE2E, CsvToParquetOverTheFilesOfAGlob) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  c.StartWorker("w2", 2);
  for (int f = 0; f < 4; ++f) {
    std::string csv = "id,city\n";
    for (int i = 0; i <= f; ++i) absl::StrAppend(&csv, f * 10 + i, ",c", i, "\n");
    WriteFile(c.data(absl::StrCat("archive/part-", f, ".csv")), csv);
  }
  WriteFile(c.data("archive/notes.txt"), "not matched\n");
  c.Submit(R"(
dag: reconvert
tasks:
  - id: convert
    type: csv_to_parquet
    for_each: { glob: "archive/*.csv" }
    max_parallel: 3
    with: { input: "{{ item }}", output: "lake/archive/file={{ map_index }}" }
  - id: none
    type: shell
    for_each: { glob: "missing/*.csv" }
    with: { command: "echo {{ item }}" }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("reconvert"), absl::Seconds(120));
  ASSERT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  std::map<std::string, const v1::TaskInstance*> by_id;
  for (const auto& t : run.tasks()) by_id[t.task_id()] = &t;
  ASSERT_TRUE(by_id.count("convert[3]"));
  EXPECT_FALSE(by_id.count("convert[4]"));
  EXPECT_EQ(by_id["none"]->state(), "skipped") << "a glob matching nothing: skipped";
  for (int f = 0; f < 4; ++f) {
    const v1::TaskInstance* t = by_id[absl::StrCat("convert[", f, "]")];
    EXPECT_EQ(t->map_item(), absl::StrCat("archive/part-", f, ".csv"));
    EXPECT_EQ(t->counters().at("rows_out"), f + 1);
    EXPECT_TRUE(FileExists(c.data(absl::StrCat("lake/archive/file=", f, "/_SUCCESS"))));
  }
}

}  // namespace
}  // namespace de::testing
