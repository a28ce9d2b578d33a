// The `aggregate` task end to end on small files: parameters, the result folder, counters and
// errors. (tests/interop/aggregate_interop.sh checks the numbers against DuckDB.)
#include "worker/tasks/aggregate.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/parquet/parquet_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/tasks/task.h"

namespace de::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class AggregateTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("de_agg_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    ctx_.data_root = root_.string();
    std::ofstream(root_ / "f.csv") << "origin,delay,distance,ts\n"
                                      "JFK,10,100,2024-01-01 10:00:00\n"
                                      "LAX,,200,2024-01-01 11:30:00\n"
                                      "JFK,30,100,2024-01-02 09:00:00\n"
                                      ",5,50,2024-01-08 00:00:00\n";
  }
  void TearDown() override { fs::remove_all(root_); }

  absl::StatusOr<TaskOutcome> Run(const std::string& yaml) {
    return RunAggregate(YAML::Load(yaml), ctx_);
  }

  fs::path root_;
  TaskContext ctx_;
};

TEST_F(AggregateTaskTest, GroupsWritesParquetAndCounts) {
  auto out = Run("{input: f.csv, output: out, group_by: [origin], "
                 "metrics: {n: count(*), d: sum(delay), a: avg(delay)}, threads: 2}");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->counters["rows_in"], 4);
  EXPECT_EQ(out->counters["rows_out"], 3);
  EXPECT_EQ(out->counters["files"], 1);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root_ / "out")) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"_SUCCESS", "part-00000.parquet"}));
  auto reader = engine::ParquetReader::Open((root_ / "out" / "part-00000.parquet").string());
  ASSERT_TRUE(reader.ok()) << reader.status();
  const auto& schema = (*reader)->schema();
  ASSERT_EQ(schema.size(), 4u);
  EXPECT_EQ(schema[1].type, engine::Type::kInt64);
  EXPECT_EQ(schema[2].type, engine::Type::kInt64);
  EXPECT_EQ(schema[3].type, engine::Type::kDouble);
  auto batch = (*reader)->ReadAll();
  ASSERT_TRUE(batch.ok());
  // Sorted by the key, null last: JFK, LAX, null.
  EXPECT_EQ(batch->columns[0].str(0), "JFK");
  EXPECT_EQ(batch->columns[1].i64[0], 2);
  EXPECT_EQ(batch->columns[2].i64[0], 40);
  EXPECT_FALSE(batch->columns[2].valid[1]);
  EXPECT_FALSE(batch->columns[0].valid[2]);
}

TEST_F(AggregateTaskTest, FilterHavingOrderLimitAndBuckets) {
  auto out = Run("{input: f.csv, output: out, format: csv, "
                 "group_by: [{bucket: week, of: ts, as: week}], metrics: {n: count(*)}, "
                 "filter: 'distance >= 100', having: 'n > 0', order_by: [n desc], limit: 1}");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->counters["rows_out"], 1);
  std::ifstream in(root_ / "out" / "part-00000.csv");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "week,n\n2024-01-01 00:00:00,3\n");
}

TEST_F(AggregateTaskTest, BadParametersAreInvalidArgumentsNamingTheProblem) {
  struct Case { const char* yaml; const char* text; };
  const Case cases[] = {
      {"{input: f.csv, output: out}", "`metrics` is required"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, grup_by: [x]}", "did you mean group_by?"},
      {"{input: f.csv, output: out, metrics: {n: count}}", "not a function call"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, format: json}", "not one of parquet, csv"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, group_by: [{bucket: minute, of: ts}]}",
       "not one of hour, day, week, month, year"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, filter: 'delay >'}", "filter"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, limit: -1}", "limit"},
      {"{input: f.csv, output: out, metrics: {n: count(*)}, threads: x}", "threads"},
  };
  for (const auto& c : cases) {
    auto out = Run(c.yaml);
    ASSERT_FALSE(out.ok()) << c.yaml;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << c.yaml << ": " << out.status();
    EXPECT_THAT(std::string(out.status().message()), HasSubstr(c.text)) << c.yaml;
  }
  auto escape = Run("{input: f.csv, output: ../out, metrics: {n: count(*)}}");
  ASSERT_FALSE(escape.ok());
  EXPECT_THAT(std::string(escape.status().message()), HasSubstr("output"));
  // An output folder that holds the input would replace it: refused, the input left alone.
  fs::create_directories(root_ / "lake");
  fs::copy_file(root_ / "f.csv", root_ / "lake" / "f.csv");
  auto over = Run("{input: lake/f.csv, output: lake, metrics: {n: count(*)}}");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.status().message()),
              HasSubstr("aggregate: input " + (root_ / "lake" / "f.csv").string() +
                        " is inside the output folder"));
  EXPECT_TRUE(fs::exists(root_ / "lake" / "f.csv"));
  // Binding errors at run time name the metric, the key or the having clause.
  auto out = Run("{input: f.csv, output: out, metrics: {avg_d: avg(delya)}}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("metrics: 'avg_d'"));
  out = Run("{input: f.csv, output: out, metrics: {n: count(*)}, having: 'm > 1'}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("having"));
  EXPECT_FALSE(fs::exists(root_ / "out"));
}

TEST_F(AggregateTaskTest, TooManyGroupsIsAClearError) {
  auto out = Run("{input: f.csv, output: out, group_by: [ts], metrics: {n: count(*)}, max_groups: 2}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("max_groups=2"));
  EXPECT_FALSE(fs::exists(root_ / "out"));
}

TEST_F(AggregateTaskTest, IsRegistered) { EXPECT_NE(FindBuiltinTask("aggregate"), nullptr); }

}  // namespace
}  // namespace de::tasks
