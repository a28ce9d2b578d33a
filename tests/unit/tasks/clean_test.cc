#include "worker/tasks/clean.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/tasks/task.h"

namespace de::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class CleanTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("de_clean_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    ctx_.data_root = root_.string();
    std::ofstream(root_ / "in.csv") << "id,origin,delay,distance\n"
                                       "1, JFK ,12,100\n"
                                       "2,LAX,abc,200\n"
                                       "3,NA,5,0\n"
                                       "4,ORD, 7 ,300\n"
                                       "5,JFK,99999999999,400\n"
                                       "6,SFO,3,500\n"
                                       "1,JFK,12,100\n";
  }
  void TearDown() override { fs::remove_all(root_); }

  absl::StatusOr<TaskOutcome> Run(const std::string& yaml) {
    return RunClean(YAML::Load(yaml), ctx_);
  }
  std::string Read(const std::string& rel) {
    std::ifstream f(root_ / rel);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  fs::path root_;
  TaskContext ctx_;
};

TEST_F(CleanTaskTest, CleansFiltersRejectsAndCommits) {
  auto out = Run(R"({input: in.csv, output: out, trim: true, null_if: [NA],
                     cast: {delay: int32}, filter: "distance > 0", threads: 2,
                     dedupe: {keys: [id]},
                     checks: [{not_null: [origin], severity: warn}, {row_count: {min: 1}}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  const auto& c = out->counters;
  EXPECT_EQ(c.at("rows_in"), 7);
  EXPECT_EQ(c.at("rows_rejected"), 2);      // abc, 99999999999
  EXPECT_EQ(c.at("rejected: cast delay to int32"), 2);
  EXPECT_EQ(c.at("rows_filtered"), 1);      // distance 0
  EXPECT_EQ(c.at("rows_deduped"), 1);       // id 1 twice
  EXPECT_EQ(c.at("rows_out"), 3);
  EXPECT_EQ(c.at("check: not_null(origin)"), 0);
  EXPECT_TRUE(fs::exists(root_ / "out/_SUCCESS"));
  std::string manifest = Read("out/_SUCCESS");
  EXPECT_THAT(manifest, HasSubstr("\"rejected_by_reason\":{\"cast delay to int32\":2}"));
  EXPECT_THAT(manifest, HasSubstr("\"check\":\"row_count\""));
  std::string rejects = Read("out/_rejects.csv");
  EXPECT_THAT(rejects, HasSubstr("cast delay 'abc' to int32"));
  EXPECT_THAT(rejects, HasSubstr("cast delay '99999999999' to int32"));
}

TEST_F(CleanTaskTest, ErrorCheckWritesNothing) {
  auto out = Run("{input: in.csv, output: out, checks: [{row_count: {min: 100}}]}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("row_count: 7 rows written, expected >= 100"));
  EXPECT_THAT(out.status().message(), HasSubstr("nothing was written"));
  EXPECT_FALSE(fs::exists(root_ / "out"));
  for (const auto& e : fs::directory_iterator(root_)) {
    EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr("tmp"))) << e.path();
  }
}

TEST_F(CleanTaskTest, OnErrorFailNamesRowAndValue) {
  auto out = Run("{input: in.csv, output: out, trim: true, cast: {delay: int32}, on_error: fail, "
                 "threads: 1}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("in.csv:3: cast delay 'abc' to int32"));
  EXPECT_FALSE(fs::exists(root_ / "out"));
}

TEST_F(CleanTaskTest, CsvOutputWithSelectAndRename) {
  auto out = Run("{input: in.csv, output: out, format: csv, select: [id, airport], "
                 "rename: {origin: airport}, trim: [airport], filter: 'id < 3'}");
  ASSERT_TRUE(out.ok()) << out.status();
  std::string all;
  for (const auto& e : fs::directory_iterator(root_ / "out")) {
    if (e.path().extension() == ".csv" && e.path().filename() != "_rejects.csv") {
      all += Read("out/" + e.path().filename().string());
    }
  }
  EXPECT_EQ(all, "id,airport\n1,JFK\n2,LAX\n1,JFK\n");
}

TEST_F(CleanTaskTest, BadParametersAreClear) {
  auto msg = [&](const std::string& y) { return std::string(Run(y).status().message()); };
  EXPECT_THAT(msg("{input: in.csv, output: out, trimm: true}"),
              HasSubstr("clean: unknown parameter 'trimm'"));
  EXPECT_THAT(msg("{input: in.csv}"), HasSubstr("`output` is required"));
  EXPECT_THAT(msg("{input: in.csv, output: out, format: json}"),
              HasSubstr("format: 'json' is not one of parquet, csv"));
  EXPECT_THAT(msg("{input: in.csv, output: out, filter: 'delay =>'}"), HasSubstr("filter"));
  EXPECT_THAT(msg("{input: in.csv, output: out, filter: 'delya > 1'}"), HasSubstr("delya"));
  EXPECT_THAT(msg("{input: in.csv, output: out, cast: {nope: int32}}"),
              HasSubstr("cast: no column 'nope'"));
  EXPECT_THAT(msg("{input: ../x.csv, output: out}"), HasSubstr("input"));
}

}  // namespace
}  // namespace de::tasks
