// RowGroupStream: a row group read in slices gives exactly the rows of ReadRowGroup, for every
// type, with nulls, across page boundaries and slice sizes; dictionary-encoded strings stay codes
// of one shared dictionary per chunk, and a chunk that switches to plain pages part-way is
// materialised from there on. A TableSource over Parquet hands out row groups in such slices.
#include "engine/parquet/parquet_stream.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/io/dataset.h"
#include "engine/io/source.h"
#include "engine/parquet/parquet_writer.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

const Schema kSchema = {{"b", Type::kBool, true},      {"i", Type::kInt32, true},
                        {"l", Type::kInt64, false},    {"d", Type::kDouble, true},
                        {"t", Type::kTimestamp, true}, {"s", Type::kString, true},
                        {"city", Type::kString, true}};

// Row i of every column: a few nulls, a repeating string (dictionary) and a distinct one.
Batch MakeRows(size_t n) {
  static const char* kCities[] = {"JFK", "LAX", "ORD", "SFO", "ATL"};
  Batch b;
  b.columns.resize(kSchema.size());
  for (size_t c = 0; c < kSchema.size(); ++c) b.columns[c].type = kSchema[c].type;
  for (size_t i = 0; i < n; ++i) {
    const bool null = i % 7 == 3;
    for (size_t c = 0; c < kSchema.size(); ++c) {
      b.columns[c].valid.push_back(!(null && kSchema[c].nullable && c != 6) && !(c == 6 && i % 13 == 5));
    }
    b.columns[0].u8.push_back(i % 3 == 0);
    b.columns[1].i32.push_back(static_cast<int32_t>(i % 1000) - 500);
    b.columns[2].i64.push_back(static_cast<int64_t>(i) * 1000003);
    b.columns[3].f64.push_back(static_cast<double>(i) / 8);
    b.columns[4].i64.push_back(1700000000000000 + static_cast<int64_t>(i) * 1000);
    b.columns[5].bytes += absl::StrCat("value-", i * 31);
    b.columns[5].offsets.push_back(static_cast<uint32_t>(b.columns[5].bytes.size()));
    b.columns[6].bytes += kCities[(i / 3) % 5];
    b.columns[6].offsets.push_back(static_cast<uint32_t>(b.columns[6].bytes.size()));
  }
  b.num_rows = n;
  return b;
}

// Row i of column c as text ("null" for a null), whichever form the column is in.
std::string Cell(const Column& c, size_t i) {
  if (!c.valid[i]) return "null";
  switch (c.type) {
    case Type::kBool: return absl::StrCat("b", c.u8[i]);
    case Type::kInt32: case Type::kDate: return absl::StrCat(c.i32[i]);
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: return absl::StrCat(c.i64[i]);
    case Type::kDouble: return absl::StrCat(c.f64[i]);
    case Type::kString:
      return std::string(c.is_dictionary() ? c.dictionary->str(c.codes[i]) : c.str(i));
  }
  return "?";
}

std::vector<std::vector<std::string>> Cells(const std::vector<Batch>& batches) {
  std::vector<std::vector<std::string>> out;
  for (const Batch& b : batches) {
    for (size_t r = 0; r < b.num_rows; ++r) {
      std::vector<std::string> row;
      for (const Column& c : b.columns) {
        EXPECT_EQ(c.size(), b.num_rows);
        row.push_back(Cell(c, r));
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

class ParquetStream : public testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<ParquetReader> Write(const Batch& rows, ParquetWriterOptions o) {
    std::filesystem::create_directories(dir_);
    const std::string path = dir_ + "/part-0.parquet";
    auto w = ParquetWriter::Open(path, kSchema, o);
    EXPECT_TRUE(w.ok()) << w.status();
    if (!w.ok()) return nullptr;
    EXPECT_TRUE((*w)->Write(rows).ok());
    EXPECT_TRUE((*w)->Close().ok());
    auto r = ParquetReader::Open(path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }
  // Row group `rg` in slices of `slice` rows (one Batch reused, as a source does; copied out).
  std::vector<Batch> Slices(const ParquetReader& r, int rg, size_t slice, bool codes) {
    RowGroupStream s;
    ParquetReadOptions ro;
    ro.keep_dictionary = codes;
    auto started = s.Start(r, rg, {}, ro);
    EXPECT_TRUE(started.ok() && *started) << started.status();
    std::vector<Batch> out;
    Batch b;
    while (s.rows_left() > 0) {
      const size_t before = s.rows_done();
      absl::Status st = s.Next(slice, &b);
      EXPECT_TRUE(st.ok()) << st;
      if (!st.ok()) break;
      EXPECT_EQ(s.rows_done(), before + b.num_rows);
      out.push_back(b);
    }
    return out;
  }

  const std::string dir_ = testing::TempDir() + "/parquet_stream_" + std::to_string(::getpid());
};

TEST_F(ParquetStream, SlicesGiveTheRowsOfTheRowGroup) {
  ParquetWriterOptions o;
  o.page_bytes = 4096;  // many pages per chunk, their boundaries unlike the slices'
  o.row_group_rows = 6000;
  auto r = Write(MakeRows(10000), o);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->num_row_groups(), 2);
  for (int rg = 0; rg < 2; ++rg) {
    auto whole = r->ReadRowGroup(rg);
    ASSERT_TRUE(whole.ok()) << whole.status();
    const auto want = Cells({*whole});
    for (size_t slice : {1, 333, 4096, 100000}) {
      for (bool codes : {false, true}) {
        std::vector<Batch> got = Slices(*r, rg, slice, codes);
        EXPECT_EQ(got.size(), (whole->num_rows + slice - 1) / slice) << slice;
        EXPECT_EQ(Cells(got), want) << "row group " << rg << ", slices of " << slice;
      }
    }
  }
}

TEST_F(ParquetStream, DictionaryStringsStayCodesOfOneDictionary) {
  auto r = Write(MakeRows(5000), {});
  ASSERT_NE(r, nullptr);
  std::vector<Batch> got = Slices(*r, 0, 1024, /*codes=*/true);
  ASSERT_EQ(got.size(), 5u);
  for (const Batch& b : got) {
    const Column& city = b.columns[6];
    ASSERT_TRUE(city.is_dictionary());
    EXPECT_EQ(city.dictionary, got[0].columns[6].dictionary) << "one dictionary per chunk";
    EXPECT_EQ(city.dictionary->size(), 5u);
    EXPECT_FALSE(b.columns[2].is_dictionary());  // only strings take the dictionary form
  }
  std::vector<Batch> plain = Slices(*r, 0, 1024, /*codes=*/false);
  EXPECT_FALSE(plain[0].columns[6].is_dictionary());
  EXPECT_EQ(Cells(got), Cells(plain));
}

TEST_F(ParquetStream, ChunkSwitchingToPlainPagesIsMaterialisedFromThere) {
  // Distinct strings outgrow a small dictionary: dictionary pages first, then plain pages.
  ParquetWriterOptions o;
  o.dictionary_max_bytes = 4096;
  o.page_bytes = 2048;
  auto r = Write(MakeRows(20000), o);
  ASSERT_NE(r, nullptr);
  auto whole = r->ReadRowGroup(0);
  ASSERT_TRUE(whole.ok());
  std::vector<Batch> got = Slices(*r, 0, 1000, /*codes=*/true);
  EXPECT_EQ(Cells(got), Cells({*whole}));
  EXPECT_FALSE(got.back().columns[5].is_dictionary());  // the distinct strings: plain by then
}

TEST_F(ParquetStream, SourceHandsOutRowGroupsInSlices) {
  ParquetWriterOptions o;
  o.row_group_rows = 150000;
  auto r = Write(MakeRows(200000), o);
  ASSERT_NE(r, nullptr);
  ResolvedDataset ds;
  ds.format = FileFormat::kParquet;
  ds.files.push_back({dir_ + "/part-0.parquet", {}});
  SourceOptions so;
  so.columns = {"city", "l"};
  so.dictionary_strings = true;
  auto src = TableSource::Open(ds, so);
  ASSERT_TRUE(src.ok()) << src.status();
  Morsel m;
  std::vector<int64_t> first_rows;
  int64_t rows = 0;
  while (true) {
    auto more = (*src)->Next(&m);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ASSERT_LE(m.batch.num_rows, size_t{1} << 16);
    // first_row is the slice's first row in the file: l = row * 1000003.
    EXPECT_EQ(m.batch.columns[1].i64[0], m.first_row * 1000003);
    EXPECT_TRUE(m.batch.columns[0].is_dictionary());
    first_rows.push_back(m.first_row);
    rows += static_cast<int64_t>(m.batch.num_rows);
  }
  EXPECT_EQ(rows, 200000);
  EXPECT_EQ(first_rows, (std::vector<int64_t>{0, 65536, 131072, 150000}));
}

}  // namespace
}  // namespace de::engine
