// Reads the DuckDB-written fixtures in tests/testdata/parquet (data page v1 and v2; PLAIN,
// PLAIN_DICTIONARY, RLE_DICTIONARY, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// BYTE_STREAM_SPLIT; snappy, gzip, zstd) and checks every value against the generating SQL.
// duckdb_v1_snappy.parquet (default options) and duckdb_v2_zstd.parquet (compression zstd,
// parquet_version v2) hold:
//   select i::INTEGER id, case when i%11=0 then null else i%3=0 end b, (i%100-50)::SMALLINT small,
//     (i*1000003)::BIGINT big, case when i%13=0 then null else i::DOUBLE/7 end d,
//     ((i%50)/4)::FLOAT f, date '2024-01-01' + (i%366) dt, timestamp '2024-01-01' + i*37 s ts,
//     ts::TIMESTAMP_MS ts_ms, ts::TIMESTAMP_NS ts_ns,
//     case when i%17=0 then null when i%5=0 then '' else 'city_' || (i%40) end s,
//     'row-' || i || '-é' u, (i/100)::DECIMAL(10,2) dec, null::VARCHAR nothing
//   from range(0, 600) t(i)
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <fstream>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "engine/parquet/parquet_reader.h"

namespace de::engine {
namespace {

std::string TestData(const std::string& name) {
  const char* env = std::getenv("DE_TESTDATA");
  std::string dir;
  if (env != nullptr && *env != '\0') {
    dir = env;
  } else {
    std::string here = __FILE__;  // .../tests/unit/data/parquet_reader_test.cc
    dir = here.substr(0, here.rfind("/unit/")) + "/testdata";
  }
  return dir + "/parquet/" + name;
}

constexpr int kRows = 600;

void CheckFixture(const std::string& file, int expected_row_groups) {
  SCOPED_TRACE(file);
  auto r = ParquetReader::Open(TestData(file));
  ASSERT_TRUE(r.ok()) << r.status();
  ParquetReader& reader = **r;
  EXPECT_EQ(reader.num_rows(), kRows);
  EXPECT_EQ(reader.num_row_groups(), expected_row_groups);
  const Schema& s = reader.schema();
  ASSERT_EQ(s.size(), 14u);
  const std::vector<std::pair<std::string, Type>> want = {
      {"id", Type::kInt32},         {"b", Type::kBool},           {"small", Type::kInt32},
      {"big", Type::kInt64},        {"d", Type::kDouble},         {"f", Type::kDouble},
      {"dt", Type::kDate},          {"ts", Type::kTimestamp},     {"ts_ms", Type::kTimestamp},
      {"ts_ns", Type::kTimestamp},  {"s", Type::kString},         {"u", Type::kString},
      {"dec", Type::kDecimal},      {"nothing", Type::kString}};
  for (size_t c = 0; c < want.size(); ++c) {
    EXPECT_EQ(s[c].name, want[c].first);
    EXPECT_EQ(s[c].type, want[c].second) << s[c].name;
    EXPECT_TRUE(s[c].nullable);
  }
  auto all = reader.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  const Batch& b = *all;
  ASSERT_EQ(b.num_rows, static_cast<size_t>(kRows));
  const int64_t kTs0 = 1704067200000000ll;  // 2024-01-01 00:00:00 UTC in micros
  for (int i = 0; i < kRows; ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(b.columns[0].i32[i], i);
    ASSERT_EQ(b.columns[1].valid[i], i % 11 != 0);
    if (i % 11 != 0) {
      ASSERT_EQ(b.columns[1].u8[i], i % 3 == 0);
    }
    ASSERT_EQ(b.columns[2].i32[i], i % 100 - 50);
    ASSERT_EQ(b.columns[3].i64[i], i * 1000003ll);
    ASSERT_EQ(b.columns[4].valid[i], i % 13 != 0);
    if (i % 13 != 0) {
      ASSERT_DOUBLE_EQ(b.columns[4].f64[i], i / 7.0);
    }
    ASSERT_EQ(b.columns[5].f64[i], (i % 50) / 4.0);
    ASSERT_EQ(b.columns[6].i32[i], 19723 + i % 366);
    for (int c : {7, 8, 9}) ASSERT_EQ(b.columns[c].i64[i], kTs0 + i * 37000000ll) << c;
    ASSERT_EQ(b.columns[10].valid[i], i % 17 != 0);
    if (i % 17 != 0) {
      ASSERT_EQ(b.columns[10].str(i), i % 5 == 0 ? std::string() : "city_" + std::to_string(i % 40));
    }
    ASSERT_EQ(b.columns[11].str(i), "row-" + std::to_string(i) + "-é");
    ASSERT_EQ(b.columns[12].i64[i], i);  // DECIMAL(10,2): i/100 exactly, unscaled
    ASSERT_EQ(b.columns[12].scale, 2);
    ASSERT_EQ(b.columns[13].valid[i], 0);
  }
  // Statistics of the first row group.
  auto id = reader.Statistics(0, 0);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(id->has_min_max);
  EXPECT_EQ(id->min_int, 0);
  EXPECT_EQ(id->max_int, reader.row_group_num_rows(0) - 1);
  auto big = reader.Statistics(0, 4);
  ASSERT_TRUE(big.ok());
  if (big->null_count) {
    EXPECT_GT(*big->null_count, 0);
  }
  auto ts = reader.Statistics(0, 8);
  ASSERT_TRUE(ts.ok());
  if (ts->has_min_max) {
    EXPECT_EQ(ts->min_int, kTs0);  // millis scaled to micros
  }
  // A column subset, in the asked order.
  auto sub = reader.ReadRowGroup(reader.num_row_groups() - 1, {11, 0});
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_EQ(sub->columns.size(), 2u);
  EXPECT_EQ(sub->columns[0].type, Type::kString);
  EXPECT_EQ(sub->columns[1].i32.back(), kRows - 1);
}

TEST(ParquetReaderDuckDB, V1Snappy) { CheckFixture("duckdb_v1_snappy.parquet", 1); }
TEST(ParquetReaderDuckDB, V2Zstd) { CheckFixture("duckdb_v2_zstd.parquet", 1); }

// duckdb_types_gzip.parquet (compression gzip):
//   select (i-60)::TINYINT t, i::UTINYINT ut, (i*100000)::UINTEGER ui, (i*1.5)::DECIMAL(30,5) bigdec,
//     (i*1.5)::DECIMAL(4,1) smalldec, (i*1.5)::DECIMAL(15,2) middec,
//     case when i%7=0 then null else ('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID end u,
//     'abc'::BLOB bl, ('x'||(i%3))::ENUM('x0','x1','x2') e,
//     timestamptz '2024-01-01 00:00:00+00' + to_seconds(i) tz
//   from range(0,120) t(i)
TEST(ParquetReaderDuckDB, OtherTypesGzip) {
  auto r = ParquetReader::Open(TestData("duckdb_types_gzip.parquet"));
  ASSERT_TRUE(r.ok()) << r.status();
  const Schema& s = (*r)->schema();
  const std::vector<std::pair<std::string, Type>> want = {
      {"t", Type::kInt32},        {"ut", Type::kInt32},       {"ui", Type::kInt64},   {"bigdec", Type::kDouble},
      {"smalldec", Type::kDecimal}, {"middec", Type::kDecimal}, {"u", Type::kString},   {"bl", Type::kString},
      {"e", Type::kString},       {"tz", Type::kTimestamp}};
  ASSERT_EQ(s.size(), want.size());
  for (size_t c = 0; c < want.size(); ++c) {
    EXPECT_EQ(s[c].name, want[c].first);
    EXPECT_EQ(s[c].type, want[c].second) << s[c].name;
  }
  EXPECT_EQ(s[4].precision, 4);
  EXPECT_EQ(s[4].scale, 1);
  EXPECT_EQ(s[5].precision, 15);
  EXPECT_EQ(s[5].scale, 2);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  const Batch& b = *all;
  ASSERT_EQ(b.num_rows, 120u);
  for (int i = 0; i < 120; ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(b.columns[0].i32[i], i - 60);
    ASSERT_EQ(b.columns[1].i32[i], i);
    ASSERT_EQ(b.columns[2].i64[i], i * 100000ll);
    ASSERT_DOUBLE_EQ(b.columns[3].f64[i], i * 1.5);  // DECIMAL(30,5): wider than int64, a double
    ASSERT_EQ(b.columns[4].i64[i], i * 15);           // DECIMAL(4,1), exact
    ASSERT_EQ(b.columns[5].i64[i], i * 150);          // DECIMAL(15,2), exact
    ASSERT_EQ(b.columns[6].valid[i], i % 7 != 0);
    if (i % 7 != 0) {
      char tail[16];
      std::snprintf(tail, sizeof(tail), "%012d", i);
      ASSERT_EQ(b.columns[6].str(i), std::string("00000000-0000-4000-8000-") + tail);
    }
    ASSERT_EQ(b.columns[7].str(i), "abc");
    ASSERT_EQ(b.columns[8].str(i), "x" + std::to_string(i % 3));
    ASSERT_EQ(b.columns[9].i64[i], 1704067200000000ll + i * 1000000ll);
  }
}

TEST(ParquetReaderDuckDB, NestedColumnsAreAClearError) {
  auto r = ParquetReader::Open(TestData("duckdb_nested.parquet"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested column 'l' (LIST) is not supported"), std::string::npos) << r.status();
}

// duckdb_lz4_raw.parquet (codec 'lz4_raw'; DuckDB writes LZ4_RAW for 'lz4' too):
//   select i::INTEGER id, case when i%5=0 then null else 'v' || (i%7) end s, (i*0.25)::DOUBLE d,
//     ((i-100)::DECIMAL(9,2)/4)::DECIMAL(9,2) amount, case when i%3=0 then null else i::BIGINT end n
//   from range(0,300) t(i) order by id
TEST(ParquetReaderDuckDB, Lz4Raw) {
  auto r = ParquetReader::Open(TestData("duckdb_lz4_raw.parquet"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->metadata().row_groups[0].columns[0].meta_data->codec, parquet::CompressionCodec::kLz4Raw);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  const Batch& b = *all;
  ASSERT_EQ(b.num_rows, 300u);
  ASSERT_EQ(b.columns[3].type, Type::kDecimal);
  for (int i = 0; i < 300; ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(b.columns[0].i32[i], i);
    ASSERT_EQ(b.columns[1].valid[i], i % 5 != 0);
    if (i % 5 != 0) {
      ASSERT_EQ(b.columns[1].str(i), "v" + std::to_string(i % 7));
    }
    ASSERT_EQ(b.columns[2].f64[i], i * 0.25);
    ASSERT_EQ(b.columns[3].i64[i], (i - 100) * 25);  // (i-100)/4 at scale 2
    ASSERT_EQ(b.columns[4].valid[i], i % 3 != 0);
    if (i % 3 != 0) {
      ASSERT_EQ(b.columns[4].i64[i], i);
    }
  }
}

// duckdb_decimals.parquet (snappy):
//   select (i-50)::DECIMAL(4,1) d4, ((i-50)*1000003.125)::DECIMAL(18,3) d18,
//     ((i-50)*123456789012.5)::DECIMAL(38,10) d38,
//     case when i%4=0 then null else ((i-50)/8)::DECIMAL(9,3) end dn
//   from range(0,100) t(i)
TEST(ParquetReaderDuckDB, DecimalsStayExact) {
  auto r = ParquetReader::Open(TestData("duckdb_decimals.parquet"));
  ASSERT_TRUE(r.ok()) << r.status();
  const Schema& s = (*r)->schema();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].type, Type::kDecimal);
  EXPECT_EQ(s[0].precision, 4);
  EXPECT_EQ(s[0].scale, 1);
  EXPECT_EQ(s[1].type, Type::kDecimal);
  EXPECT_EQ(s[1].precision, 18);
  EXPECT_EQ(s[1].scale, 3);
  EXPECT_EQ(s[2].type, Type::kDouble);  // precision 38 does not fit an int64
  EXPECT_EQ(s[3].type, Type::kDecimal);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  const Batch& b = *all;
  int64_t sum18 = 0;
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(b.columns[0].i64[i], (i - 50) * 10);
    ASSERT_EQ(b.columns[1].i64[i], (i - 50) * 1000003125ll);
    sum18 += b.columns[1].i64[i];
    ASSERT_DOUBLE_EQ(b.columns[2].f64[i], (i - 50) * 123456789012.5);
    ASSERT_EQ(b.columns[3].valid[i], i % 4 != 0);
    if (i % 4 != 0) {
      ASSERT_EQ(b.columns[3].i64[i], (i - 50) * 125);
    }
  }
  EXPECT_EQ(sum18, -50000156250ll);  // sum(d18) = -50000156.250 exactly
  auto st = (*r)->Statistics(0, 1);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->has_min_max);
  EXPECT_EQ(st->min_int, -50 * 1000003125ll);
  EXPECT_EQ(st->max_int, 49 * 1000003125ll);
}

// duckdb_v2_nulls.parquet (parquet_version v2, gzip): columns n and s are null in every row, so
// their v2 pages carry definition levels and no values.
//   select i::INTEGER id, null::INTEGER n, null::VARCHAR s from range(0,50) t(i)
TEST(ParquetReaderDuckDB, V2PagesOfNullsOnly) {
  auto r = ParquetReader::Open(TestData("duckdb_v2_nulls.parquet"));
  ASSERT_TRUE(r.ok()) << r.status();
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->num_rows, 50u);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(all->columns[0].i32[i], i);
    ASSERT_EQ(all->columns[1].valid[i], 0);
    ASSERT_EQ(all->columns[2].valid[i], 0);
  }
}

// duckdb_empty.parquet: select 1::INTEGER x, 'a' s where false (no rows).
TEST(ParquetReaderDuckDB, EmptyFile) {
  auto r = ParquetReader::Open(TestData("duckdb_empty.parquet"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_rows(), 0);
  ASSERT_EQ((*r)->schema().size(), 2u);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->num_rows, 0u);
}

TEST(ParquetReader, MissingAndNonParquetFiles) {
  EXPECT_FALSE(ParquetReader::Open(TestData("does_not_exist.parquet")).ok());
  std::string path = testing::TempDir() + "/not_parquet_" + std::to_string(::getpid()) + ".parquet";
  { std::ofstream(path) << "id,name\n1,a\n2,b\n"; }
  auto r = ParquetReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a Parquet file"), std::string::npos) << r.status();
  std::remove(path.c_str());
}

// Damaged copies of the DuckDB files (v1 and v2 pages, DELTA encodings) give errors, never crashes.
TEST(ParquetReader, CorruptDuckDBFilesAreErrors) {
  std::string bad_path = testing::TempDir() + "/corrupt_duckdb_" + std::to_string(::getpid()) + ".parquet";
  std::mt19937 rng(5);
  for (const char* name : {"duckdb_v2_zstd.parquet", "duckdb_types_gzip.parquet", "duckdb_v1_snappy.parquet"}) {
    std::ifstream in(TestData(name), std::ios::binary);
    std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(good.empty());
    for (int iter = 0; iter < 150; ++iter) {
      std::string data = good;
      if (iter % 4 == 0) {
        data.resize(rng() % data.size());
      } else {
        int flips = 1 + rng() % 6;
        for (int k = 0; k < flips; ++k) data[rng() % data.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      { std::ofstream out(bad_path, std::ios::binary | std::ios::trunc); out << data; }
      auto r = ParquetReader::Open(bad_path);
      if (!r.ok()) continue;
      for (int g = 0; g < (*r)->num_row_groups(); ++g) {
        (void)(*r)->ReadRowGroup(g);
        for (size_t c = 0; c < (*r)->schema().size(); ++c) (void)(*r)->Statistics(g, static_cast<int>(c));
      }
    }
  }
  std::remove(bad_path.c_str());
}

}  // namespace
}  // namespace de::engine
