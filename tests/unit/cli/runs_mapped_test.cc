// dectl's grouping of for_each instances (cli/runs_mapped.h).
#include "cli/runs_mapped.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

de::v1::Run MappedRun() {
  de::v1::Run run;
  auto add = [&](const std::string& id, const std::string& state, const std::string& parent) {
    auto* t = run.add_tasks();
    t->set_task_id(id);
    t->set_state(state);
    t->set_map_task(parent);
  };
  add("convert", "failed", "");
  add("report", "upstream_failed", "");
  for (int i = 0; i < 14; ++i) {
    add("convert[" + std::to_string(i) + "]", i < 2 ? "failed" : i < 13 ? "success" : "cancelled",
        "convert");
  }
  return run;
}

TEST(RunsMappedTest, CountsPerStateSuccessFirst) {
  auto counts = MappedCounts(MappedRun());
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(MappedSummary(counts.at("convert")), "[14] success 11, cancelled 1, failed 2");
}

TEST(RunsMappedTest, RowsListTheInstancesThatDidNotSucceedUnderTheirTask) {
  de::v1::Run run = MappedRun();
  std::vector<std::string> ids;
  for (const TaskRow& r : TaskRows(run, /*all_instances=*/false, /*max_shown=*/2)) {
    ids.push_back(r.task == nullptr ? "+" + std::to_string(r.more) : r.task->task_id());
  }
  EXPECT_THAT(ids, ::testing::ElementsAre("convert", "convert[0]", "convert[1]", "+1", "report"));
  EXPECT_EQ(TaskRows(run, /*all_instances=*/true).size(), 16u);
}

}  // namespace
}  // namespace de::cli
