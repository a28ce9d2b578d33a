#include "worker/task_cli.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::worker {
namespace {

using ::testing::HasSubstr;

TEST(ParseTaskArgValueTest, TheDeclaredTypeDecides) {
  // An enum keeps "null" as text (YAML would read it as no value).
  YAML::Node n = ParseTaskArgValue("csv_to_parquet", "on_error", "null");
  ASSERT_TRUE(n.IsScalar());
  EXPECT_EQ(n.Scalar(), "null");
  EXPECT_EQ(ParseTaskArgValue("csv_to_parquet", "delimiter", "~").Scalar(), "~");
  EXPECT_EQ(ParseTaskArgValue("clean", "filter", "[a] > 1").Scalar(), "[a] > 1");
  EXPECT_EQ(ParseTaskArgValue("csv_to_parquet", "input", "{a,b}.csv").Scalar(), "{a,b}.csv");
  // Lists and maps are YAML in flow brackets.
  YAML::Node list = ParseTaskArgValue("csv_to_parquet", "partition_by", "[origin, dest]");
  ASSERT_TRUE(list.IsSequence());
  EXPECT_EQ(list.size(), 2u);
  YAML::Node map = ParseTaskArgValue("aggregate", "metrics", "{n: count(*)}");
  ASSERT_TRUE(map.IsMap());
  EXPECT_EQ(map["n"].Scalar(), "count(*)");
  EXPECT_EQ(ParseTaskArgValue("csv_to_parquet", "null_values", "NA").Scalar(), "NA");
  // Undeclared keys: as before (YAML in brackets, else the text).
  EXPECT_TRUE(ParseTaskArgValue("csv_to_parquet", "nope", "[1]").IsSequence());
  EXPECT_EQ(ParseTaskArgValue("csv_to_parquet", "nope", "a: b").Scalar(), "a: b");
}

TEST(TaskErrorClassTest, ConfigurationErrorsAreNotRetryable) {
  EXPECT_FALSE(IsRetryableTaskError(absl::InvalidArgumentError("bad")));
  EXPECT_FALSE(IsRetryableTaskError(absl::PermissionDeniedError("outside the data root")));
  EXPECT_FALSE(IsRetryableTaskError(absl::FailedPreconditionError("schema mismatch")));
  EXPECT_FALSE(IsRetryableTaskError(absl::OutOfRangeError("x")));
  EXPECT_TRUE(IsRetryableTaskError(absl::NotFoundError("input not there yet")));
  EXPECT_TRUE(IsRetryableTaskError(absl::InternalError("disk")));
  EXPECT_TRUE(IsRetryableTaskError(absl::UnavailableError("x")));
}

class TaskCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("task_cli_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "in.csv") << "a,b\n1,x\n2,y\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"de-worker", "task"});
    args.push_back("--data-root=" + dir_.string());
    args.push_back("--result-file=" + (dir_ / "result.json").string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return RunTaskCommand(static_cast<int>(argv.size()), argv.data());
  }
  std::string Result() const {
    std::ifstream in(dir_ / "result.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::filesystem::path dir_;
};

TEST_F(TaskCommandTest, OnErrorNullRunsAndBadParametersAreRefusedBeforeRunning) {
  EXPECT_EQ(Run({"csv_to_parquet", "input=in.csv", "output=out", "on_error=null"}), 0);
  EXPECT_THAT(Result(), HasSubstr("\"ok\":true"));

  EXPECT_EQ(
      Run({"csv_to_parquet", "input=in.csv", "output=out2", "compresion=zstd", "compression=lz4"}),
      1);
  EXPECT_EQ(Result(),
            "{\"ok\":false,\"error\":\"unknown csv_to_parquet parameter 'compresion' (did you "
            "mean 'compression'?)\\ncompression: 'lz4' is not one of snappy, zstd, gzip, none\","
            "\"code\":\"INVALID_ARGUMENT\",\"retryable\":false,\"seconds\":0.000}\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out2"));
}

TEST_F(TaskCommandTest, BareNullInAParamsFileMeansTheValueNull) {
  std::ofstream(dir_ / "p.yaml") << "input: in.csv\noutput: out\non_error: null\n";
  EXPECT_EQ(Run({"csv_to_parquet", "--params-file", (dir_ / "p.yaml").string()}), 0) << Result();
}

TEST_F(TaskCommandTest, InputOutsideTheDataRootIsNotRetryable) {
  EXPECT_EQ(Run({"csv_to_parquet", "input=/etc/hostname", "output=out"}), 1);
  EXPECT_THAT(Result(), HasSubstr("is outside the data root"));
  EXPECT_THAT(Result(), HasSubstr("\"code\":\"PERMISSION_DENIED\",\"retryable\":false"));
}

TEST_F(TaskCommandTest, MissingInputIsRetryable) {
  EXPECT_EQ(Run({"csv_to_parquet", "input=later.csv", "output=out"}), 1);
  EXPECT_THAT(Result(), HasSubstr("\"retryable\":true"));
}

TEST(TaskHelpTest, HelpAndMarkdown) {
  std::vector<std::string> args = {"de-worker", "task", "--help", "csv_to_parquet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunTaskCommand(4, argv.data()), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("on_error"));
  EXPECT_THAT(out, HasSubstr("reject|null|fail, default reject"));

  args = {"de-worker", "task", "--params-markdown"};
  argv.clear();
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunTaskCommand(3, argv.data()), 0);
  EXPECT_THAT(::testing::internal::GetCapturedStdout(), HasSubstr("#### `csv_to_parquet`"));
}

}  // namespace
}  // namespace de::worker
