#include "worker/tasks/csv_to_parquet.h"

#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/dag/param_values.h"
#include "engine/io/codec.h"
#include "engine/parquet/parquet_reader.h"
#include "worker/tasks/task.h"

namespace de::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// gzip framing via the project's own codec (the same zlib settings a gzip file uses).
std::string Gzip(const std::string& in) {
  de::engine::ByteBuffer out;
  EXPECT_TRUE(de::engine::CompressBlock(de::engine::Codec::kGzip, 0, in.data(), in.size(), &out).ok());
  return std::string(out.data(), out.size());
}

class CsvToParquetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("de_c2p_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    ctx_.data_root = root_.string();
  }
  void TearDown() override { fs::remove_all(root_); }

  void WriteFile(const std::string& rel, const std::string& content) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }

  absl::StatusOr<TaskOutcome> Run(const std::string& yaml) {
    return RunCsvToParquet(YAML::Load(yaml), ctx_);
  }

  // Files under the output folder (relative), sorted.
  std::set<std::string> Files(const std::string& rel) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_ / rel)) {
      if (e.is_regular_file()) out.insert(fs::relative(e.path(), root_ / rel).string());
    }
    return out;
  }

  int64_t ParquetRows(const std::string& rel) {
    int64_t rows = 0;
    for (const auto& f : Files(rel)) {
      if (f.size() < 8 || f.substr(f.size() - 8) != ".parquet") continue;
      auto r = engine::ParquetReader::Open((root_ / rel / f).string());
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) rows += (*r)->num_rows();
    }
    return rows;
  }

  std::string Read(const std::string& rel) {
    std::ifstream in(root_ / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  bool HasTmpSiblings(const std::string& rel) {
    for (const auto& e : fs::directory_iterator((root_ / rel).parent_path())) {
      std::string n = e.path().filename().string();
      if (n.find(".tmp-") != std::string::npos || n.find(".old-") != std::string::npos) return true;
    }
    return false;
  }

  std::string Numbers(int n, int start = 0) {
    std::string s = "id,cat,amount,at\n";
    for (int i = start; i < start + n; ++i) {
      s += std::to_string(i) + "," + (i % 3 == 0 ? "a" : i % 3 == 1 ? "b/c" : "") + "," +
           std::to_string(i * 0.5) + ",2024-0" + std::to_string(1 + i % 3) + "-1" +
           std::to_string(i % 10) + " 10:00:00\n";
    }
    return s;
  }

  fs::path root_;
  TaskContext ctx_;
};

TEST_F(CsvToParquetTest, ParamErrors) {
  WriteFile("in.csv", "a\n1\n");
  auto expect_error = [&](const std::string& yaml, const std::string& what) {
    auto r = Run(yaml);
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(what)) << yaml;
  };
  expect_error("{output: o}", "`input` is required");
  expect_error("{input: in.csv}", "`output` is required");
  expect_error("{input: in.csv, output: o, colour: red}", "unknown parameter 'colour'");
  expect_error("{input: in.csv, output: o, compression: lz4}", "compression: 'lz4'");
  expect_error("{input: in.csv, output: o, target_file_size: 12XB}", "unknown unit");
  expect_error("{input: in.csv, output: o, on_error: ignore}", "on_error: 'ignore'");
  expect_error("{input: in.csv, output: o, delimiter: ab}", "delimiter: expected one character");
  expect_error("{input: in.csv, output: o, schema: {a: money}}", "unknown type 'money'");
  expect_error("{input: in.csv, output: o, partition_by: [{column: a, granularity: week}]}",
               "granularity 'week'");
  expect_error("{input: in.csv, output: o, partition_by: [nope]}", "no column 'nope'");
  expect_error("{input: in.csv, output: o, partition_by: [{column: a, granularity: day}]}",
               "needs a date or timestamp column");
  expect_error("{input: in.csv, output: o, partition_by: [a]}", "every column is a partition");
  expect_error("{input: ../in.csv, output: o}", "outside the data root");
  expect_error("{input: in.csv, output: ../../o}", "outside the data root");
  expect_error("{input: /etc/passwd, output: o}", "outside the data root");
  expect_error("{input: missing.csv, output: o}", "no such file");
  expect_error("{input: 'nothing*.csv', output: o}", "matches no CSV files");
  expect_error("{input: in.csv, output: ., threads: 1}", "not the root");
  expect_error("{input: in.csv, output: o, threads: x}", "threads: expected an integer");
  WriteFile("lake/t/in.csv", "a\n1\n");
  expect_error("{input: lake/t/in.csv, output: lake}", "is inside the output folder");
}

TEST_F(CsvToParquetTest, ByteSizesAndEscaping) {
  EXPECT_EQ(*dag::ParseByteSize("192MB"), 192ll << 20);
  EXPECT_EQ(*dag::ParseByteSize("1.5 GiB"), 3ll << 29);
  EXPECT_EQ(*dag::ParseByteSize("4096"), 4096);
  EXPECT_EQ(*dag::ParseByteSize("64kb"), 65536);
  EXPECT_FALSE(dag::ParseByteSize("MB").ok());
  EXPECT_FALSE(dag::ParseByteSize("-1MB").ok());
  EXPECT_EQ(EscapePartitionValue("a/b c=d"), "a%2Fb c%3Dd");
  EXPECT_EQ(EscapePartitionValue(".."), "%2E%2E");
  EXPECT_EQ(EscapePartitionValue("2024-01-01 10:00:00"), "2024-01-01 10%3A00%3A00");
  EXPECT_EQ(EscapePartitionValue("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST_F(CsvToParquetTest, ConvertsAndWritesManifest) {
  WriteFile("in/data.csv", Numbers(1000));
  auto r = Run("{input: in/data.csv, output: out/t, threads: 2}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counters["rows_in"], 1000);
  EXPECT_EQ(r->counters["rows_out"], 1000);
  EXPECT_EQ(r->counters["rows_rejected"], 0);
  EXPECT_EQ(r->counters["files"], 1);
  EXPECT_EQ(r->outputs, std::vector<std::string>{(root_ / "out/t").string()});
  EXPECT_EQ(Files("out/t"), (std::set<std::string>{"_SUCCESS", "part-00000.parquet"}));
  std::string manifest = Read("out/t/_SUCCESS");
  EXPECT_THAT(manifest, HasSubstr("\"rows\":1000"));
  EXPECT_THAT(manifest, HasSubstr("{\"path\":\"part-00000.parquet\",\"rows\":1000,\"bytes\":"));
  EXPECT_THAT(manifest, HasSubstr("{\"name\":\"at\",\"type\":\"timestamp\"}"));
  EXPECT_THAT(manifest, HasSubstr("\"codec\":\"snappy\""));
  EXPECT_THAT(r->summary_json, HasSubstr("\"rows_out\":1000"));

  auto reader = engine::ParquetReader::Open((root_ / "out/t/part-00000.parquet").string());
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->schema().size(), 4u);
  EXPECT_EQ((*reader)->schema()[0].type, engine::Type::kInt64);
  EXPECT_EQ((*reader)->schema()[1].type, engine::Type::kString);
  EXPECT_EQ((*reader)->schema()[2].type, engine::Type::kDouble);
  EXPECT_EQ((*reader)->schema()[3].type, engine::Type::kTimestamp);
  auto batch = (*reader)->ReadAll();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->num_rows, 1000u);
  EXPECT_EQ(batch->columns[0].i64[999], 999);
  EXPECT_EQ(batch->columns[1].str(1), "b/c");
  EXPECT_FALSE(batch->columns[1].valid[2]);
  EXPECT_EQ(batch->columns[2].f64[3], 1.5);
}

TEST_F(CsvToParquetTest, CompressedGlobAndFolderInputs) {
  std::string a = Numbers(100, 0), b = Numbers(50, 100);
  WriteFile("raw/a.csv.gz", Gzip(a));
  std::string z(ZSTD_compressBound(b.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), b.data(), b.size(), 3));
  WriteFile("raw/b.csv.zst", z);
  WriteFile("raw/notes.md", "not csv");
  auto r = Run("{input: 'raw/*.csv*', output: o1, compression: zstd}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counters["rows_out"], 150);
  EXPECT_EQ(r->counters["input_files"], 2);
  EXPECT_EQ(ParquetRows("o1"), 150);
  auto f = Run("{input: raw, output: o2, compression: gzip, threads: 1}");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->counters["rows_out"], 150);
  auto n = Run("{input: raw/a.csv.gz, output: o3, compression: none}");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(ParquetRows("o3"), 100);
}

TEST_F(CsvToParquetTest, PartitionByColumnAndMonthBucket) {
  WriteFile("in.csv", Numbers(300));
  auto r = Run("{input: in.csv, output: p, partition_by: [cat]}");
  ASSERT_TRUE(r.ok()) << r.status();
  std::set<std::string> dirs;
  for (const auto& f : Files("p")) {
    if (f != "_SUCCESS") dirs.insert(fs::path(f).parent_path().string());
  }
  EXPECT_EQ(dirs, (std::set<std::string>{"cat=a", "cat=b%2Fc", "cat=__HIVE_DEFAULT_PARTITION__"}));
  EXPECT_EQ(ParquetRows("p"), 300);
  // The partition column is in the folder name, not in the files.
  auto reader = engine::ParquetReader::Open((root_ / "p/cat=a/part-00000.parquet").string());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->schema().size(), 3u);
  EXPECT_EQ((*reader)->num_rows(), 100);

  auto m = Run("{input: in.csv, output: m, partition_by: [{column: at, granularity: month}], threads: 1}");
  ASSERT_TRUE(m.ok()) << m.status();
  std::set<std::string> months;
  for (const auto& f : Files("m")) {
    if (f != "_SUCCESS") months.insert(fs::path(f).parent_path().string());
  }
  EXPECT_EQ(months, (std::set<std::string>{"at_month=2024-01", "at_month=2024-02", "at_month=2024-03"}));
  auto day = Run("{input: in.csv, output: d, partition_by: [cat, {column: at, granularity: day, as: dt}]}");
  ASSERT_TRUE(day.ok()) << day.status();
  EXPECT_TRUE(fs::exists(root_ / "d/cat=a/dt=2024-01-10"));
  EXPECT_EQ(ParquetRows("d"), 300);
}

TEST_F(CsvToParquetTest, RotatesFilesAtTargetSize) {
  std::string s = "id,text\n";
  for (int i = 0; i < 60000; ++i) s += std::to_string(i) + ",row number " + std::to_string(i * 7919) + "\n";
  WriteFile("big.csv", s);
  auto r = Run("{input: big.csv, output: rot, target_file_size: 64KB, compression: none, threads: 1}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->counters["files"], 3);
  EXPECT_EQ(ParquetRows("rot"), 60000);
  int parquet = 0;
  for (const auto& f : Files("rot")) parquet += f.find(".parquet") != std::string::npos;
  EXPECT_EQ(parquet, r->counters["files"]);
}

TEST_F(CsvToParquetTest, RejectsFileAndOnErrorModes) {
  WriteFile("dirty.csv", "n,s\n1,a\nx,b\n\"multi\nline\",c\n4\n5,e\n");
  auto r = Run("{input: dirty.csv, output: rj, schema: {n: int64}}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counters["rows_in"], 5);
  EXPECT_EQ(r->counters["rows_out"], 2);
  EXPECT_EQ(r->counters["rows_rejected"], 3);
  std::string rej = Read("rj/_rejects.csv");
  const std::string src = (root_ / "dirty.csv").string();
  EXPECT_EQ(rej, "source_file,line,reason,raw\n" + src +
                     ",3,column 'n': 'x' is not an int64,\"x,b\"\n" + src +
                     ",4,\"column 'n': 'multi\nline' is not an int64\",\"\"\"multi\nline\"\",c\"\n" +
                     src + ",6,\"expected 2 fields, found 1\",4\n");
  EXPECT_THAT(Read("rj/_SUCCESS"), HasSubstr("\"rejects_file\":\"_rejects.csv\""));

  auto n = Run("{input: dirty.csv, output: nl, schema: {n: int64}, on_error: 'null'}");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->counters["rows_out"], 5);
  EXPECT_EQ(n->counters["values_nulled"], 3);
  EXPECT_FALSE(fs::exists(root_ / "nl/_rejects.csv"));

  auto f = Run("{input: dirty.csv, output: fl, schema: {n: int64}, on_error: fail}");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(std::string(f.status().message()), src + ":3: column 'n': 'x' is not an int64");
  EXPECT_FALSE(fs::exists(root_ / "fl"));
  EXPECT_FALSE(HasTmpSiblings("fl"));
}

TEST_F(CsvToParquetTest, RerunReplacesAndFailureKeepsOldOutput) {
  WriteFile("v1.csv", Numbers(10));
  ASSERT_TRUE(Run("{input: v1.csv, output: lake/t, partition_by: [cat]}").ok());
  EXPECT_TRUE(fs::exists(root_ / "lake/t/cat=a"));
  // Rerun with other data: the old folders are gone.
  WriteFile("v2.csv", "id,amount\n1,2\n3,4\n");
  auto r = Run("{input: v2.csv, output: lake/t}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Files("lake/t"), (std::set<std::string>{"_SUCCESS", "part-00000.parquet"}));
  EXPECT_EQ(ParquetRows("lake/t"), 2);
  const std::string before = Read("lake/t/_SUCCESS");
  // A run that fails half-way (a bad row far into a big input, after files were written).
  std::string big = "id,amount\n";
  for (int i = 0; i < 200000; ++i) big += std::to_string(i) + "," + std::to_string(i) + "\n";
  big += "oops,1\n";
  WriteFile("v3.csv", big);
  auto f = Run("{input: v3.csv, output: lake/t, on_error: fail, target_file_size: 16KB, threads: 2}");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("v3.csv:200002:"));
  EXPECT_EQ(Read("lake/t/_SUCCESS"), before);
  EXPECT_EQ(ParquetRows("lake/t"), 2);
  EXPECT_FALSE(HasTmpSiblings("lake/t"));
  // Leftovers of a crashed run are cleaned up by the next run.
  fs::create_directories(root_ / "lake/.t.tmp-123456");
  ASSERT_TRUE(Run("{input: v2.csv, output: lake/t}").ok());
  EXPECT_FALSE(HasTmpSiblings("lake/t"));
}

TEST_F(CsvToParquetTest, CrashBetweenRenamesIsRecovered) {
  WriteFile("v2.csv", "id,amount\n1,2\n3,4\n");
  ASSERT_TRUE(Run("{input: v2.csv, output: lake/t}").ok());
  // Simulate a crash after the old output was renamed aside and before the new one moved in.
  fs::rename(root_ / "lake/t", root_ / "lake/.t.old-abc");
  fs::create_directories(root_ / "lake/.t.tmp-abc");
  WriteFile("bad.csv", std::string("\x1f\x8b\x08\x00garbage", 11));
  auto r = Run("{input: bad.csv, output: lake/t}");
  ASSERT_FALSE(r.ok());
  // The failed run restored the complete previous output first.
  EXPECT_EQ(ParquetRows("lake/t"), 2);
  EXPECT_FALSE(HasTmpSiblings("lake/t"));
}

TEST_F(CsvToParquetTest, BadInputsGiveClearErrors) {
  std::string z = Gzip(Numbers(20000));
  WriteFile("trunc.csv.gz", z.substr(0, z.size() / 2));
  auto t = Run("{input: trunc.csv.gz, output: o}");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("trunc.csv.gz: truncated gzip stream"));
  EXPECT_FALSE(fs::exists(root_ / "o"));
  EXPECT_FALSE(HasTmpSiblings("o"));

  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 1103515245 + 12345;
    garbage.push_back(static_cast<char>(x >> 16));
  }
  WriteFile("garbage.csv", garbage);
  auto g = Run("{input: garbage.csv, output: o}");
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("garbage.csv does not look like CSV"));
}

TEST_F(CsvToParquetTest, EmptyAndHeaderOnlyInputs) {
  WriteFile("empty.csv", "");
  auto e = Run("{input: empty.csv, output: e}");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->counters["rows_out"], 0);
  EXPECT_EQ(e->counters["files"], 0);
  EXPECT_TRUE(fs::exists(root_ / "e/_SUCCESS"));
  WriteFile("header.csv", "alpha,beta\n");
  auto h = Run("{input: header.csv, output: h}");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->counters["files"], 1);
  auto reader = engine::ParquetReader::Open((root_ / "h/part-00000.parquet").string());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_rows(), 0);
  EXPECT_EQ((*reader)->schema().size(), 2u);
}

TEST_F(CsvToParquetTest, ThreadCountsGiveTheSameData) {
  std::string s = "k,v,w\n";
  for (int i = 0; i < 300000; ++i) s += std::to_string(i % 97) + "," + std::to_string(i) + ",\"x\ny\"\n";
  WriteFile("t.csv", s);
  for (int threads : {1, 2, 3}) {
    const std::string out = absl::StrCat("t", threads);
    auto r = Run("{input: t.csv, output: " + out + ", threads: " + std::to_string(threads) + "}");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->counters["rows_out"], 300000);
    EXPECT_EQ(ParquetRows(out), 300000);
  }
}

TEST_F(CsvToParquetTest, RegisteredAsBuiltin) {
  ASSERT_NE(FindBuiltinTask("csv_to_parquet"), nullptr);
}

}  // namespace
}  // namespace de::tasks
