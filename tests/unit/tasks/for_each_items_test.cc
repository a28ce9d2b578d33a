// The mapper step of a for_each task (worker/tasks/for_each_items.h): a glob's files and a
// dataset's partitions inside a time range, relative to the data root, as {"items": [...]}.
#include "worker/tasks/for_each_items.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ForEachItemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("de_fei_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    ctx_.data_root = root_.string();
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& content = "PAR1....PAR1") {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  absl::StatusOr<TaskOutcome> Run(const std::string& yaml) {
    return RunForEachItems(YAML::Load(yaml), ctx_);
  }

  fs::path root_;
  TaskContext ctx_;
};

TEST_F(ForEachItemsTest, GlobListsFilesRelativeToTheDataRootSorted) {
  Write("raw/b.csv", "x\n");
  Write("raw/a.csv", "x\n");
  Write("raw/notes.txt", "x\n");
  auto out = Run("glob: raw/*.csv");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->summary_json, R"({"items":["raw/a.csv","raw/b.csv"]})");
  EXPECT_EQ(out->counters.at("items"), 2);
}

TEST_F(ForEachItemsTest, AGlobMatchingNothingIsNoItems) {
  auto out = Run("glob: raw/*.csv");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->summary_json, R"({"items":[]})");
}

TEST_F(ForEachItemsTest, AGlobOutsideTheDataRootIsRefused) {
  auto out = Run("glob: /etc/pass*");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("outside the data root"));
}

TEST_F(ForEachItemsTest, PartitionsInsideTheRange) {
  for (const char* day : {"2024-01-01", "2024-01-02", "2024-01-03"}) {
    Write(std::string("lake/t/dt=") + day + "/part-0.parquet");
    Write(std::string("lake/t/dt=") + day + "/_SUCCESS", "{}");
  }
  auto out = Run("partitions: { path: lake/t, from: 2024-01-02, to: 2024-01-04 }");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->summary_json, R"({"items":["lake/t/dt=2024-01-02","lake/t/dt=2024-01-03"]})");
}

TEST_F(ForEachItemsTest, BadParametersSayWhatIsExpected) {
  auto out = Run("globs: x");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("needs with: {glob: PATTERN}"));
}

}  // namespace
}  // namespace de::tasks
