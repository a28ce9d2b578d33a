// Dataset inputs: spec parsing, files/globs/folders, hive columns, time-range partition selection.
#include "engine/io/dataset.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/io/dataset_range.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class DatasetTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            absl::StrCat("dataset_test_", ::getpid(), "_",
                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& content = "PAR1....PAR1") {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  // One day (or month) folder with a data file and, unless told otherwise, _SUCCESS.
  void Part(const std::string& rel, bool success = true) {
    Write(rel + "/part-0.parquet");
    if (success) Write(rel + "/_SUCCESS", "{}");
  }
  void Days(const std::string& base, int y, int m, int first, int last) {
    for (int d = first; d <= last; ++d) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "dt=%04d-%02d-%02d", y, m, d);
      Part(base + "/" + buf);
    }
  }
  absl::StatusOr<ResolvedDataset> Resolve(const std::string& path, std::optional<std::string> from = {},
                                          std::optional<std::string> to = {}, bool allow_missing = false) {
    DatasetSpec s;
    s.path = path;
    s.from = from;
    s.to = to;
    s.allow_missing = allow_missing;
    return ResolveDataset(s, root_.string());
  }
  std::vector<std::string> Rel(const ResolvedDataset& d) {
    std::vector<std::string> out;
    for (const auto& f : d.files) out.push_back(fs::path(f.path).lexically_relative(root_).string());
    return out;
  }

  fs::path root_;
};

TEST(DatasetSpecTest, StringAndMap) {
  auto s = ParseDatasetSpec(YAML::Load("lake/flights"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->path, "lake/flights");
  EXPECT_FALSE(s->from);
  s = ParseDatasetSpec(YAML::Load(
      "{path: lake/flights, from: '2024-01-01T00:00:00+00:00', to: '2024-02-01', allow_missing: true}"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s->from, "2024-01-01T00:00:00+00:00");
  EXPECT_EQ(*s->to, "2024-02-01");
  EXPECT_TRUE(s->allow_missing);
  // Unrendered templates pass (the loader validates before rendering).
  EXPECT_TRUE(ParseDatasetSpec(YAML::Load(
      "{path: x, from: '{{ data_interval_start }}', to: '{{ data_interval_end }}'}")).ok());
}

TEST(DatasetSpecTest, ErrorsNameTheKey) {
  auto s = ParseDatasetSpec(YAML::Load("{path: x, form: '2024-01-01', to: '2024-01-02'}"));
  EXPECT_THAT(s.status().message(), HasSubstr("input: unknown key 'form'"));
  s = ParseDatasetSpec(YAML::Load("{from: '2024-01-01', to: '2024-01-02'}"));
  EXPECT_THAT(s.status().message(), HasSubstr("`path` is required"));
  s = ParseDatasetSpec(YAML::Load("{path: x, from: '2024-01-01'}"));
  EXPECT_THAT(s.status().message(), HasSubstr("`to` is missing"));
  s = ParseDatasetSpec(YAML::Load("{path: x, from: '2024-13-01', to: '2024-01-02'}"), "source");
  EXPECT_THAT(s.status().message(), HasSubstr("source.from: '2024-13-01' is not a date"));
  s = ParseDatasetSpec(YAML::Load("{path: x, allow_missing: maybe}"));
  EXPECT_THAT(s.status().message(), HasSubstr("input.allow_missing: expected true or false"));
  s = ParseDatasetSpec(YAML::Load("[a, b]"));
  EXPECT_THAT(s.status().message(), HasSubstr("expected a path"));
  s = ParseDatasetSpec(YAML::Load("{path: [a]}"));
  EXPECT_THAT(s.status().message(), HasSubstr("input.path: expected a string"));
}

TEST(DatasetRangeTest, BoundsAndPeriods) {
  namespace di = dataset_internal;
  int64_t day;
  bool midnight;
  ASSERT_TRUE(di::ParseRangeBound("2024-02-29", "to", &day, &midnight).ok());
  EXPECT_EQ(di::FormatDay(day), "2024-02-29");
  EXPECT_TRUE(midnight);
  ASSERT_TRUE(di::ParseRangeBound("2024-01-01T00:00:00+01:00", "to", &day, &midnight).ok());
  EXPECT_EQ(di::FormatDay(day), "2024-01-01");  // the date written, not UTC's
  EXPECT_TRUE(midnight);
  ASSERT_TRUE(di::ParseRangeBound("2024-01-01 06:30:00Z", "to", &day, &midnight).ok());
  EXPECT_FALSE(midnight);
  EXPECT_FALSE(di::ParseRangeBound("2023-02-29", "to", &day, &midnight).ok());
  EXPECT_FALSE(di::ParseRangeBound("2024-01-01T25:00:00", "to", &day, &midnight).ok());
  di::Grain g;
  ASSERT_TRUE(di::ParsePeriod("2024-02", &g, &day));
  EXPECT_EQ(g, di::Grain::kMonth);
  EXPECT_EQ(di::FormatDay(di::NextPeriod(g, day)), "2024-03-01");
  ASSERT_TRUE(di::ParsePeriod("2024-12", &g, &day));
  EXPECT_EQ(di::FormatDay(di::NextPeriod(g, day)), "2025-01-01");
  bool is_null;
  EXPECT_EQ(di::DecodePartitionValue("a%2Fb%3D%25", &is_null), "a/b=%");
  EXPECT_FALSE(is_null);
  di::DecodePartitionValue("__HIVE_DEFAULT_PARTITION__", &is_null);
  EXPECT_TRUE(is_null);
}

TEST_F(DatasetTest, SingleFile) {
  Write("in/flights.csv", "a,b\n1,2\n");
  auto d = Resolve("in/flights.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->format, FileFormat::kCsv);
  EXPECT_THAT(Rel(*d), testing::ElementsAre("in/flights.csv"));
  EXPECT_TRUE(d->partition_columns.empty());
  Write("in/data.bin", "PAR1xxxxPAR1");  // Parquet by magic
  d = Resolve("in/data.bin");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->format, FileFormat::kParquet);
}

TEST_F(DatasetTest, Glob) {
  Write("in/a.csv", "x\n");
  Write("in/b.csv", "x\n");
  Write("in/c.txt.gz", "x\n");
  Write("in/d.parquet");
  auto d = Resolve("in/*.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Rel(*d), testing::ElementsAre("in/a.csv", "in/b.csv"));
  EXPECT_EQ(d->format, FileFormat::kCsv);
  // Hive folders below the glob's fixed part become columns.
  Part("lake/t/dt=2024-01-01");
  Part("lake/t/dt=2024-01-02");
  d = Resolve("lake/t/dt=*/*.parquet");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->partition_columns, testing::ElementsAre("dt"));
  ASSERT_EQ(d->files.size(), 2u);
  EXPECT_THAT(d->files[1].partition_values, testing::ElementsAre("2024-01-02"));
  EXPECT_FALSE(Resolve("in/*.json").ok());
}

TEST_F(DatasetTest, HiveColumnsAndSkippedNames) {
  Write("lake/t/origin=JFK/year=2024/part-0.parquet");
  Write("lake/t/origin=a%2Fb/year=2024/part-0.parquet");
  Write("lake/t/origin=__HIVE_DEFAULT_PARTITION__/year=2024/part-0.parquet");
  Write("lake/t/.tmp-123/origin=X/year=1/part-0.parquet");
  Write("lake/t/_rejects.csv", "x\n");
  Write("lake/t/origin=JFK/year=2024/.part-1.parquet.crc", "x");
  Write("lake/t/README.md", "notes");
  auto d = Resolve("lake/t");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->format, FileFormat::kParquet);
  EXPECT_THAT(d->partition_columns, testing::ElementsAre("origin", "year"));
  ASSERT_EQ(d->files.size(), 3u);
  EXPECT_THAT(d->files[0].partition_values, testing::ElementsAre("JFK", "2024"));
  EXPECT_THAT(d->files[1].partition_values, testing::ElementsAre("", "2024"));  // null
  EXPECT_THAT(d->files[2].partition_values, testing::ElementsAre("a/b", "2024"));
  EXPECT_THAT(absl::StrJoin(d->log, "\n"), HasSubstr("skipped 1 file that is neither Parquet nor CSV"));
}

TEST_F(DatasetTest, PartitionKeysMustAgree) {
  Write("lake/t/dt=2024-01-01/origin=JFK/part-0.parquet");
  Write("lake/t/dt=2024-01-02/part-0.parquet");
  auto d = Resolve("lake/t");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("files disagree on their partition folders"));
  EXPECT_THAT(d.status().message(), HasSubstr("dt=2024-01-01/origin=JFK/part-0.parquet has [dt, origin]"));
  EXPECT_THAT(d.status().message(), HasSubstr("dt=2024-01-02/part-0.parquet has [dt]"));
}

TEST_F(DatasetTest, MixedFormatsError) {
  Write("lake/t/a.parquet");
  Write("lake/t/b.csv", "x\n");
  auto d = Resolve("lake/t");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("mixes Parquet and CSV files (a.parquet is Parquet, b.csv is CSV)"));
}

TEST_F(DatasetTest, OutsideRootError) {
  auto d = Resolve("../elsewhere");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("outside the data root"));
  d = Resolve("/etc/passwd");
  EXPECT_THAT(d.status().message(), HasSubstr("outside the data root"));
  // A symlink inside the root that leads out of it.
  fs::create_directories(root_ / "lake");
  fs::create_directory_symlink("/etc", root_ / "lake" / "escape");
  d = Resolve("lake");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("outside the data root"));
}

TEST_F(DatasetTest, SymlinkLoopIsAnError) {
  Write("lake/l/a.parquet");
  fs::create_directory_symlink(root_ / "lake" / "l", root_ / "lake" / "l" / "again");
  auto d = Resolve("lake/l");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("symlink loop"));
}

TEST_F(DatasetTest, JanuaryReadsThirtyOneDays) {
  Days("lake/f", 2023, 12, 30, 31);
  Days("lake/f", 2024, 1, 1, 31);
  Days("lake/f", 2024, 2, 1, 2);
  auto d = Resolve("lake/f", "2024-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 31u);
  EXPECT_EQ(d->files.front().partition_values[0], "2024-01-01");
  EXPECT_EQ(d->files.back().partition_values[0], "2024-01-31");
  EXPECT_THAT(d->log, testing::Contains("read 31 partitions dt=2024-01-01 .. dt=2024-01-31 (31 files)"));
}

TEST_F(DatasetTest, LeapFebruary) {
  Days("lake/f", 2024, 2, 1, 29);
  Days("lake/f", 2024, 3, 1, 1);
  auto d = Resolve("lake/f", "2024-02-01", "2024-03-01");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 29u);
  EXPECT_EQ(d->files.back().partition_values[0], "2024-02-29");
}

TEST_F(DatasetTest, MissingDayIsAnError) {
  Days("lake/f", 2024, 1, 1, 16);
  Days("lake/f", 2024, 1, 18, 31);
  auto d = Resolve("lake/f", "2024-01-01", "2024-02-01");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "input lake/f: partition dt=2024-01-17 is missing; 30 of 31 days in [2024-01-01, 2024-02-01) "
            "are complete; set allow_missing: true to read the others");
}

TEST_F(DatasetTest, DayWithoutSuccessIsAnError) {
  Days("lake/f", 2024, 1, 1, 16);
  Part("lake/f/dt=2024-01-17", /*success=*/false);
  Days("lake/f", 2024, 1, 18, 31);
  auto d = Resolve("lake/f", "2024-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "input lake/f: partition dt=2024-01-17 has no _SUCCESS (half-written or failed); 30 of 31 days "
            "in [2024-01-01, 2024-02-01) are complete; set allow_missing: true to read the others");
}

TEST_F(DatasetTest, AllowMissingWarnsAndReadsTheOthers) {
  Days("lake/f", 2024, 1, 1, 16);
  Part("lake/f/dt=2024-01-17", /*success=*/false);
  Days("lake/f", 2024, 1, 19, 31);
  auto d = Resolve("lake/f", "2024-01-01", "2024-02-01", /*allow_missing=*/true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 29u);
  std::string log = absl::StrJoin(d->log, "\n");
  EXPECT_THAT(log, HasSubstr("warning: input lake/f: partition dt=2024-01-17 has no _SUCCESS"));
  EXPECT_THAT(log, HasSubstr("and 1 more: partition dt=2024-01-18 is missing"));
  EXPECT_THAT(log, HasSubstr("29 of 31 days"));
  EXPECT_THAT(log, HasSubstr("read 29 partitions dt=2024-01-01 .. dt=2024-01-31 (29 files)"));
}

TEST_F(DatasetTest, SuccessAtTheDatasetRootCoversEveryPartition) {
  // csv_to_parquet partition_by: [{column: ts, granularity: day}] writes one _SUCCESS at the root.
  for (int d = 1; d <= 3; ++d) Write(absl::StrCat("lake/f/ts_day=2024-01-0", d, "/part-0.parquet"));
  Write("lake/f/_SUCCESS", "{}");
  auto d = Resolve("lake/f", "2024-01-01", "2024-01-04");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 3u);
  EXPECT_THAT(d->partition_columns, testing::ElementsAre("ts_day"));
  EXPECT_THAT(d->log, testing::Contains("read 3 partitions ts_day=2024-01-01 .. ts_day=2024-01-03 (3 files)"));
}

TEST_F(DatasetTest, MonthPartitions) {
  for (const char* m : {"2023-12", "2024-01", "2024-02", "2024-03"}) Part(absl::StrCat("lake/m/month=", m));
  auto d = Resolve("lake/m", "2024-01-01", "2024-03-01");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 2u);
  EXPECT_THAT(d->log, testing::Contains("read 2 partitions month=2024-01 .. month=2024-02 (2 files)"));
  // A month only partly inside the range is not read; none whole is an error.
  d = Resolve("lake/m", "2024-01-15", "2024-03-01");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 1u);
  d = Resolve("lake/m", "2024-01-15", "2024-02-15");
  EXPECT_THAT(d.status().message(), HasSubstr("no whole month in [2024-01-15, 2024-02-15)"));
  d = Resolve("lake/m", "2024-01-01", "2024-06-01");
  EXPECT_THAT(d.status().message(), HasSubstr("partition month=2024-04 is missing"));
  EXPECT_THAT(d.status().message(), HasSubstr("3 of 5 months"));
}

TEST_F(DatasetTest, BucketPartitionsUnderOtherKeys) {
  // csv_to_parquet partition_by: [origin, {column: ts, granularity: month}].
  for (const char* o : {"JFK", "LAX"}) {
    for (const char* m : {"2024-01", "2024-02"}) Write(absl::StrCat("lake/b/origin=", o, "/ts_month=", m, "/p.parquet"));
  }
  Write("lake/b/_SUCCESS", "{}");
  auto d = Resolve("lake/b", "2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Rel(*d), testing::ElementsAre("lake/b/origin=JFK/ts_month=2024-02/p.parquet",
                                            "lake/b/origin=LAX/ts_month=2024-02/p.parquet"));
  EXPECT_THAT(d->files[1].partition_values, testing::ElementsAre("LAX", "2024-02"));
}

TEST_F(DatasetTest, EmptyDayFolderWithSuccessCounts) {
  Part("lake/f/dt=2024-01-01");
  Write("lake/f/dt=2024-01-02/_SUCCESS", "{}");  // a day without rows
  auto d = Resolve("lake/f", "2024-01-01", "2024-01-03");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 1u);
}

TEST_F(DatasetTest, TimestampNotAtMidnightExcludesThePartialDay) {
  Days("lake/f", 2024, 1, 1, 3);
  auto d = Resolve("lake/f", "2024-01-01T06:00:00+00:00", "2024-01-04T00:00:00+00:00");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 2u);  // Jan 2 and 3
}

TEST_F(DatasetTest, RangeNeedsTimePartitions) {
  Write("lake/p/origin=JFK/p.parquet");
  auto d = Resolve("lake/p", "2024-01-01", "2024-01-02");
  EXPECT_THAT(d.status().message(), HasSubstr("need time partition folders"));
  d = Resolve("lake/p/*.parquet", "2024-01-01", "2024-01-02");
  EXPECT_THAT(d.status().message(), HasSubstr("not a glob"));
}

TEST_F(DatasetTest, FolderWithoutRangeRefusesHalfWrittenParts) {
  Part("lake/f/dt=2024-01-01");
  Part("lake/f/dt=2024-01-02", /*success=*/false);
  auto d = Resolve("lake/f");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("folder dt=2024-01-02 has no _SUCCESS"));
  d = Resolve("lake/f", std::nullopt, std::nullopt, /*allow_missing=*/true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 1u);
  // A plain folder nobody marked is read whole.
  Write("raw/a.csv", "x\n");
  Write("raw/sub/b.csv", "x\n");
  d = Resolve("raw");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->files.size(), 2u);
}

}  // namespace
}  // namespace de::engine
