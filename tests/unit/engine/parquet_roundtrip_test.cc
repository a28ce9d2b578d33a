// Writer -> reader round trips over every type, nulls, codecs, row groups, pages and dictionaries.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "engine/io/codec.h"
#include "engine/parquet/parquet_reader.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {
namespace {

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/parquet_rt_" + std::to_string(::getpid()) + "_" + name + ".parquet";
}

Schema AllTypesSchema(bool nullable = true) {
  return {{"b", Type::kBool, nullable},      {"i32", Type::kInt32, nullable},
          {"i64", Type::kInt64, nullable},   {"d", Type::kDouble, nullable},
          {"date", Type::kDate, nullable},   {"ts", Type::kTimestamp, nullable},
          {"s", Type::kString, nullable}};
}

// Appends one value (or a null) to a column.
void Push(Column* c, bool valid, int64_t x, double d, const std::string& s) {
  c->valid.push_back(valid ? 1 : 0);
  switch (c->type) {
    case Type::kBool: c->u8.push_back(valid ? (x & 1) : 0); break;
    case Type::kInt32:
    case Type::kDate: c->i32.push_back(valid ? static_cast<int32_t>(x) : 0); break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: c->i64.push_back(valid ? x : 0); break;
    case Type::kDouble: c->f64.push_back(valid ? d : 0); break;
    case Type::kString:
      if (valid) c->bytes += s;
      c->offsets.push_back(static_cast<uint32_t>(c->bytes.size()));
      break;
  }
}

Batch EmptyBatch(const Schema& schema) {
  Batch b;
  for (const Field& f : schema) {
    Column c;
    c.type = f.type;
    b.columns.push_back(std::move(c));
  }
  return b;
}

// Random rows; `distinct` bounds the number of distinct values per column (0 = unbounded).
Batch RandomBatch(const Schema& schema, size_t rows, double null_frac, uint32_t seed, int distinct = 50) {
  std::mt19937_64 rng(seed);
  Batch b = EmptyBatch(schema);
  b.num_rows = rows;
  static const char* kWords[] = {"", "a", "JFK", "LAX", "héllo", "日本語", "zz", "\xF0\x9F\x98\x80", "ORD",
                                 "a longer string value that is not tiny"};
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < schema.size(); ++c) {
      bool valid = !schema[c].nullable || std::uniform_real_distribution<double>(0, 1)(rng) >= null_frac;
      int64_t x = distinct > 0 ? static_cast<int64_t>(rng() % distinct) - distinct / 2 : static_cast<int64_t>(rng());
      if (schema[c].type == Type::kTimestamp) x = static_cast<int64_t>(static_cast<uint64_t>(x) * 1000003u + 1700000000000000ull);
      double d = static_cast<double>(x) / 7.0;
      std::string s = std::string(kWords[rng() % 10]) + (distinct > 0 ? std::to_string(x) : std::to_string(rng()));
      Push(&b.columns[c], valid, x, d, s);
    }
  }
  return b;
}

// Concatenates batches (same schema) so expected data can be compared with ReadAll().
void AppendBatch(Batch* dst, const Batch& src) {
  if (dst->columns.empty()) {
    *dst = src;
    return;
  }
  for (size_t c = 0; c < src.columns.size(); ++c) {
    Column& d = dst->columns[c];
    const Column& s = src.columns[c];
    for (size_t r = 0; r < s.size(); ++r) {
      bool v = s.valid[r];
      switch (s.type) {
        case Type::kBool: Push(&d, v, s.u8[r], 0, ""); break;
        case Type::kInt32:
        case Type::kDate: Push(&d, v, s.i32[r], 0, ""); break;
        case Type::kInt64:
        case Type::kDecimal:
        case Type::kTimestamp: Push(&d, v, s.i64[r], 0, ""); break;
        case Type::kDouble: Push(&d, v, 0, s.f64[r], ""); break;
        case Type::kString: Push(&d, v, 0, 0, std::string(s.str(r))); break;
      }
    }
  }
  dst->num_rows += src.num_rows;
}

void ExpectSameData(const Batch& want, const Batch& got) {
  ASSERT_EQ(want.num_rows, got.num_rows);
  ASSERT_EQ(want.columns.size(), got.columns.size());
  for (size_t c = 0; c < want.columns.size(); ++c) {
    const Column& w = want.columns[c];
    const Column& g = got.columns[c];
    ASSERT_EQ(w.type, g.type) << "column " << c;
    ASSERT_EQ(g.size(), want.num_rows) << "column " << c;
    for (size_t r = 0; r < want.num_rows; ++r) {
      ASSERT_EQ(w.valid[r] != 0, g.valid[r] != 0) << "column " << c << " row " << r;
      if (!w.valid[r]) continue;
      switch (w.type) {
        case Type::kBool: ASSERT_EQ(w.u8[r], g.u8[r]) << "column " << c << " row " << r; break;
        case Type::kInt32:
        case Type::kDate: ASSERT_EQ(w.i32[r], g.i32[r]) << "column " << c << " row " << r; break;
        case Type::kInt64:
        case Type::kDecimal:
        case Type::kTimestamp: ASSERT_EQ(w.i64[r], g.i64[r]) << "column " << c << " row " << r; break;
        case Type::kDouble:
          if (std::isnan(w.f64[r])) {
            ASSERT_TRUE(std::isnan(g.f64[r]));
          } else {
            ASSERT_EQ(w.f64[r], g.f64[r]) << "column " << c << " row " << r;
          }
          break;
        case Type::kString: ASSERT_EQ(w.str(r), g.str(r)) << "column " << c << " row " << r; break;
      }
    }
  }
}

// Writes `batches` and reads the whole file back.
Batch RoundTrip(const std::string& path, const Schema& schema, const std::vector<Batch>& batches,
                const ParquetWriterOptions& opts, std::unique_ptr<ParquetReader>* reader_out = nullptr,
                bool keep_file = false) {
  auto w = ParquetWriter::Open(path, schema, opts);
  EXPECT_TRUE(w.ok()) << w.status();
  for (const Batch& b : batches) {
    auto s = (*w)->Write(b);
    EXPECT_TRUE(s.ok()) << s;
  }
  auto s = (*w)->Close();
  EXPECT_TRUE(s.ok()) << s;
  auto r = ParquetReader::Open(path);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return Batch{};
  auto all = (*r)->ReadAll();
  EXPECT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*r)->schema().size(), schema.size());
  for (size_t i = 0; i < schema.size() && i < (*r)->schema().size(); ++i) {
    EXPECT_EQ((*r)->schema()[i].name, schema[i].name);
    EXPECT_EQ((*r)->schema()[i].type, schema[i].type);
    EXPECT_EQ((*r)->schema()[i].nullable, schema[i].nullable);
  }
  Batch out = all.ok() ? *std::move(all) : Batch{};
  if (reader_out) *reader_out = std::move(*r);
  if (!keep_file && std::getenv("DE_KEEP_TEST_FILES") == nullptr) std::remove(path.c_str());  // an open reader keeps its fd
  return out;
}

TEST(ParquetRoundTrip, DecimalStaysExact) {
  Schema schema = {{"amount", Type::kDecimal, true, 18, 2}, {"rate", Type::kDecimal, false, 9, 4}};
  Batch b = RandomBatch(schema, 3000, 0.1, 7, /*distinct=*/100000);
  for (Column& c : b.columns) c.scale = &c == &b.columns[0] ? 2 : 4;
  b.columns[0].i64[0] = 999999999999999999;  // 18 digits
  b.columns[0].valid[0] = 1;
  b.columns[1].i64[0] = -123456789;          // -12345.6789
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("decimal"), schema, {b}, ParquetWriterOptions{}, &r);
  ExpectSameData(b, got);
  ASSERT_EQ(r->schema()[0].precision, 18);
  EXPECT_EQ(r->schema()[0].scale, 2);
  EXPECT_EQ(r->schema()[1].precision, 9);
  EXPECT_EQ(r->schema()[1].scale, 4);
  EXPECT_EQ(got.columns[1].scale, 4);
  auto st = r->Statistics(0, 0);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->has_min_max);
  EXPECT_EQ(st->max_int, 999999999999999999);
}

TEST(ParquetRoundTrip, BadDecimalTypeIsAnError) {
  Schema schema = {{"x", Type::kDecimal, true, 19, 2}};
  Batch b = EmptyBatch(schema);
  b.num_rows = 1;
  Push(&b.columns[0], true, 1, 0, "");
  auto w = ParquetWriter::Open(TempPath("bad_decimal"), schema, ParquetWriterOptions{});
  ASSERT_TRUE(w.ok());
  auto s = (*w)->Write(b);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("decimal(19,2)"), std::string::npos) << s;
}

class CodecRoundTrip : public testing::TestWithParam<Codec> {};

TEST_P(CodecRoundTrip, AllTypesWithNulls) {
  Schema schema = AllTypesSchema();
  Batch b = RandomBatch(schema, 5000, 0.2, 1);
  ParquetWriterOptions opts;
  opts.codec = GetParam();
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath(std::string("codec_") + CodecName(GetParam())), schema, {b}, opts, &r);
  ExpectSameData(b, got);
  const auto& md = r->metadata();
  ASSERT_EQ(md.row_groups.size(), 1u);
  EXPECT_EQ(md.row_groups[0].columns[0].meta_data->codec,
            static_cast<parquet::CompressionCodec>(ParquetCodecId(GetParam())));
}

TEST_P(CodecRoundTrip, ManyPagesAndRowGroupsHighCardinality) {
  Schema schema = AllTypesSchema();
  std::vector<Batch> batches;
  Batch want;
  for (int i = 0; i < 4; ++i) {
    batches.push_back(RandomBatch(schema, 3000 + i * 7, 0.1, 10 + i, /*distinct=*/0));
    AppendBatch(&want, batches.back());
  }
  ParquetWriterOptions opts;
  opts.codec = GetParam();
  opts.row_group_rows = 5000;
  opts.page_bytes = 4096;
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath(std::string("pages_") + CodecName(GetParam())), schema, batches, opts, &r);
  ExpectSameData(want, got);
  EXPECT_EQ(r->num_row_groups(), 3);
  EXPECT_EQ(r->num_rows(), static_cast<int64_t>(want.num_rows));
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecRoundTrip,
                         testing::Values(Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd, Codec::kLz4,
                                         Codec::kLz4Raw),
                         [](const testing::TestParamInfo<Codec>& info) { return std::string(CodecName(info.param)); });

TEST(ParquetRoundTrip, RequiredColumns) {
  Schema schema = AllTypesSchema(/*nullable=*/false);
  Batch b = RandomBatch(schema, 2000, 0, 2);
  Batch got = RoundTrip(TempPath("required"), schema, {b}, ParquetWriterOptions{});
  ExpectSameData(b, got);
}

TEST(ParquetRoundTrip, NullInRequiredColumnIsAnError) {
  Schema schema = {{"x", Type::kInt64, false}};
  Batch b = EmptyBatch(schema);
  Push(&b.columns[0], true, 1, 0, "");
  Push(&b.columns[0], false, 0, 0, "");
  b.num_rows = 2;
  auto w = ParquetWriter::Open(TempPath("required_null"), schema, {});
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE((*w)->Write(b).ok());
  std::remove(TempPath("required_null").c_str());
}

TEST(ParquetRoundTrip, AllNullColumns) {
  Schema schema = AllTypesSchema();
  Batch b = RandomBatch(schema, 3000, 1.0, 3);
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("allnull"), schema, {b}, ParquetWriterOptions{}, &r);
  ExpectSameData(b, got);
  for (int c = 0; c < 7; ++c) {
    auto st = r->Statistics(0, c);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->null_count.value_or(-1), 3000);
    EXPECT_FALSE(st->has_min_max);
  }
}

TEST(ParquetRoundTrip, EmptyStringsAndUnicode) {
  Schema schema = {{"s", Type::kString, true}};
  Batch b = EmptyBatch(schema);
  std::vector<std::string> vals = {"", "", "é", "日本語", "", "\xF0\x9F\x98\x80 emoji", "a\0b", ""};
  vals[6] = std::string("a\0b", 3);
  for (int rep = 0; rep < 100; ++rep) {
    for (size_t i = 0; i < vals.size(); ++i) Push(&b.columns[0], (i + rep) % 5 != 0, 0, 0, vals[i]);
  }
  b.num_rows = b.columns[0].size();
  Batch got = RoundTrip(TempPath("unicode"), schema, {b}, ParquetWriterOptions{});
  ExpectSameData(b, got);
}

TEST(ParquetRoundTrip, ZeroRows) {
  Schema schema = AllTypesSchema();
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("zero"), schema, {}, ParquetWriterOptions{}, &r);
  EXPECT_EQ(got.num_rows, 0u);
  EXPECT_EQ(r->num_rows(), 0);
  EXPECT_EQ(r->num_row_groups(), 0);
  // An empty batch is fine too.
  Batch empty = EmptyBatch(schema);
  Batch got2 = RoundTrip(TempPath("zero2"), schema, {empty}, ParquetWriterOptions{});
  EXPECT_EQ(got2.num_rows, 0u);
}

TEST(ParquetRoundTrip, DictionaryFallsBackToPlain) {
  Schema schema = {{"s", Type::kString, true}, {"i", Type::kInt64, true}};
  Batch b = EmptyBatch(schema);
  // The first 5000 rows repeat 10 values (dictionary pays); then every value is new.
  for (int r = 0; r < 20000; ++r) {
    int64_t x = r < 5000 ? r % 10 : r;
    Push(&b.columns[0], r % 13 != 0, x, 0, "value-" + std::to_string(x));
    Push(&b.columns[1], r % 11 != 0, x, 0, "");
  }
  b.num_rows = 20000;
  ParquetWriterOptions opts;
  opts.dictionary_max_bytes = 16 * 1024;
  opts.page_bytes = 8 * 1024;
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("fallback"), schema, {b}, opts, &r);
  ExpectSameData(b, got);
  for (int c = 0; c < 2; ++c) {
    const auto& md = *r->metadata().row_groups[0].columns[c].meta_data;
    EXPECT_TRUE(md.dictionary_page_offset.has_value());
    bool has_dict = false, has_plain = false;
    for (const auto& es : md.encoding_stats) {
      if (es.page_type == parquet::PageType::kDataPage && es.encoding == parquet::Encoding::kRleDictionary) has_dict = true;
      if (es.page_type == parquet::PageType::kDataPage && es.encoding == parquet::Encoding::kPlain) has_plain = true;
    }
    EXPECT_TRUE(has_dict) << c;
    EXPECT_TRUE(has_plain) << c;
  }
}

TEST(ParquetRoundTrip, PagesAreCappedAtPageRows) {
  // Few distinct values: 300000 rows of 2-bit indices are far below page_bytes, so only the row
  // cap closes the pages (65536 rows each by default: 5 data pages).
  Schema schema = {{"few", Type::kInt64, true}, {"s", Type::kString, true}};
  Batch b = EmptyBatch(schema);
  for (int r = 0; r < 300000; ++r) {
    Push(&b.columns[0], true, r % 3, 0, "");
    Push(&b.columns[1], r % 7 != 0, 0, 0, r % 2 ? "JFK" : "LAX");
  }
  b.num_rows = 300000;
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("page_rows"), schema, {b}, ParquetWriterOptions{}, &r);
  ExpectSameData(b, got);
  for (int c = 0; c < 2; ++c) {
    int data_pages = 0;
    for (const auto& es : r->metadata().row_groups[0].columns[c].meta_data->encoding_stats) {
      if (es.page_type == parquet::PageType::kDataPage) data_pages += es.count;
    }
    EXPECT_EQ(data_pages, 5) << c;
  }
}

TEST(ParquetRoundTrip, UniqueValuesSkipTheDictionary) {
  Schema schema = {{"id", Type::kInt64, false}, {"s", Type::kString, false}, {"few", Type::kInt32, false}};
  Batch b = EmptyBatch(schema);
  for (int r = 0; r < 50000; ++r) {
    Push(&b.columns[0], true, r * 7919ll, 0, "");
    Push(&b.columns[1], true, 0, 0, "id-" + std::to_string(r));
    Push(&b.columns[2], true, r % 3, 0, "");
  }
  b.num_rows = 50000;
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("unique"), schema, {b}, ParquetWriterOptions{}, &r);
  ExpectSameData(b, got);
  EXPECT_FALSE(r->metadata().row_groups[0].columns[0].meta_data->dictionary_page_offset.has_value());
  EXPECT_FALSE(r->metadata().row_groups[0].columns[1].meta_data->dictionary_page_offset.has_value());
  EXPECT_TRUE(r->metadata().row_groups[0].columns[2].meta_data->dictionary_page_offset.has_value());
}

TEST(ParquetRoundTrip, Statistics) {
  Schema schema = {{"i32", Type::kInt32, true}, {"i64", Type::kInt64, true}, {"d", Type::kDouble, true},
                   {"s", Type::kString, true},  {"b", Type::kBool, true},   {"date", Type::kDate, true},
                   {"ts", Type::kTimestamp, true}};
  Batch b = EmptyBatch(schema);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> ints = {5, -7, 100, 0, -7, 42};
  std::vector<double> dbls = {nan, 2.5, -1.25, nan, 0.0, 3.0};
  std::vector<std::string> strs = {"b", "zz", "é", "a", "", "Z"};  // bytewise: "" < "Z" < "a" < "b" < "zz" < "é"
  for (size_t r = 0; r < ints.size(); ++r) {
    bool valid = r != 3;
    Push(&b.columns[0], valid, ints[r], 0, "");
    Push(&b.columns[1], valid, ints[r] * 1000000000000ll, 0, "");
    Push(&b.columns[2], valid, 0, dbls[r], "");
    Push(&b.columns[3], valid, 0, 0, strs[r]);
    Push(&b.columns[4], valid, 1, 0, "");
    Push(&b.columns[5], valid, ints[r], 0, "");
    Push(&b.columns[6], valid, ints[r], 0, "");
  }
  b.num_rows = ints.size();
  for (int dict : {1, 0}) {
    ParquetWriterOptions opts;
    if (!dict) opts.dictionary_max_bytes = 0;  // PLAIN from the first value
    std::unique_ptr<ParquetReader> r;
    Batch got = RoundTrip(TempPath("stats" + std::to_string(dict)), schema, {b}, opts, &r);
    ExpectSameData(b, got);
    auto st = [&](int c) { return *r->Statistics(0, c); };
    EXPECT_EQ(st(0).min_int, -7);
    EXPECT_EQ(st(0).max_int, 100);
    EXPECT_EQ(st(0).null_count.value_or(-1), 1);
    EXPECT_EQ(st(1).min_int, -7000000000000ll);
    EXPECT_EQ(st(1).max_int, 100000000000000ll);
    EXPECT_EQ(st(2).min_double, -1.25);
    EXPECT_EQ(st(2).max_double, 3.0);
    EXPECT_EQ(st(3).min_string, "");
    EXPECT_EQ(st(3).max_string, "é");
    EXPECT_EQ(st(4).min_int, 1);
    EXPECT_EQ(st(4).max_int, 1);
    EXPECT_EQ(st(5).min_int, -7);
    EXPECT_EQ(st(6).max_int, 100);
    EXPECT_TRUE(st(3).has_min_max);
    const auto& dmd = *r->metadata().row_groups[0].columns[2].meta_data;
    EXPECT_EQ(dmd.statistics->nan_count.value_or(-1), 1);  // the null row held a NaN too, not counted
  }
}

TEST(ParquetRoundTrip, LongStringsHaveNoBounds) {
  Schema schema = {{"s", Type::kString, true}};
  Batch b = EmptyBatch(schema);
  Push(&b.columns[0], true, 0, 0, std::string(5000, 'x'));
  Push(&b.columns[0], true, 0, 0, "short");
  Push(&b.columns[0], false, 0, 0, "");
  b.num_rows = 3;
  std::unique_ptr<ParquetReader> r;
  Batch got = RoundTrip(TempPath("longstr"), schema, {b}, ParquetWriterOptions{}, &r);
  ExpectSameData(b, got);
  auto st = r->Statistics(0, 0);
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->has_min_max);
  EXPECT_EQ(st->null_count.value_or(-1), 1);
}

TEST(ParquetRoundTrip, ThreadedWriterMatches) {
  Schema schema = AllTypesSchema();
  Batch b = RandomBatch(schema, 300000, 0.05, 4, 300);
  ParquetWriterOptions opts;
  opts.threads = 3;
  opts.row_group_rows = 200000;
  Batch got = RoundTrip(TempPath("threads"), schema, {b}, opts);
  ExpectSameData(b, got);
}

TEST(ParquetRoundTrip, RowGroupsReadConcurrently) {
  Schema schema = AllTypesSchema();
  Batch b = RandomBatch(schema, 40000, 0.1, 8, 500);
  ParquetWriterOptions opts;
  opts.row_group_rows = 5000;
  std::unique_ptr<ParquetReader> r;
  Batch want = RoundTrip(TempPath("concurrent"), schema, {b}, opts, &r);
  ASSERT_EQ(r->num_row_groups(), 8);
  std::vector<Batch> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int g = t; g < 8; g += 4) got[g] = *r->ReadRowGroup(g);
    });
  }
  for (auto& t : threads) t.join();
  Batch all;
  for (const Batch& g : got) AppendBatch(&all, g);
  ExpectSameData(want, all);
}

TEST(ParquetRoundTrip, MetadataAndColumnSubset) {
  Schema schema = AllTypesSchema();
  Batch b = RandomBatch(schema, 100, 0.3, 5);
  ParquetWriterOptions opts;
  opts.key_value_metadata = {{"source", "flights.csv"}, {"k", ""}};
  std::unique_ptr<ParquetReader> r;
  RoundTrip(TempPath("meta"), schema, {b}, opts, &r);
  EXPECT_EQ(r->created_by(), "de version 0.1.0 (build de)");
  const auto& kv = r->metadata().key_value_metadata;
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].key, "k");
  EXPECT_EQ(kv[1].key, "source");
  EXPECT_EQ(kv[1].value.value_or(""), "flights.csv");
  EXPECT_EQ(r->metadata().num_column_orders, 7);
  auto sub = r->ReadRowGroup(0, {6, 1});
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_EQ(sub->columns.size(), 2u);
  Batch want;
  want.num_rows = b.num_rows;
  want.columns = {b.columns[6], b.columns[1]};
  ExpectSameData(want, *sub);
  EXPECT_FALSE(r->ReadRowGroup(1).ok());
  EXPECT_FALSE(r->ReadRowGroup(0, {9}).ok());
}

TEST(ParquetRoundTrip, SchemaMismatchIsAnError) {
  Schema schema = {{"x", Type::kInt64, true}};
  auto w = ParquetWriter::Open(TempPath("mismatch"), schema, {});
  ASSERT_TRUE(w.ok());
  Batch b;
  Column c;
  c.type = Type::kString;
  b.columns.push_back(c);
  EXPECT_FALSE((*w)->Write(b).ok());
  b.columns[0].type = Type::kInt64;
  b.columns[0].valid = {1};
  b.num_rows = 1;  // no value in i64
  EXPECT_FALSE((*w)->Write(b).ok());
  std::remove(TempPath("mismatch").c_str());
}

TEST(ParquetRoundTrip, EstimatedFileBytesIsClose) {
  Schema schema = AllTypesSchema();
  for (Codec codec : {Codec::kNone, Codec::kSnappy, Codec::kZstd}) {
    ParquetWriterOptions opts;
    opts.codec = codec;
    opts.page_bytes = 64 * 1024;
    std::string path = TempPath(std::string("estimate_") + CodecName(codec));
    auto w = ParquetWriter::Open(path, schema, opts);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*w)->Write(RandomBatch(schema, 20000, 0.1, 100 + i, 5000)).ok());
    int64_t estimate = (*w)->EstimatedFileBytes();
    EXPECT_EQ((*w)->rows_written(), 200000);
    ASSERT_TRUE((*w)->Close().ok());
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    int64_t actual = static_cast<int64_t>(f.tellg());
    EXPECT_NEAR(static_cast<double>(estimate) / actual, 1.0, 0.05) << CodecName(codec) << " " << estimate << " vs " << actual;
    std::remove(path.c_str());
  }
}

TEST(ParquetRoundTrip, RowGroupBytesLimit) {
  Schema schema = {{"s", Type::kString, false}};
  ParquetWriterOptions opts;
  opts.row_group_bytes = 200 * 1024;
  opts.page_bytes = 32 * 1024;
  opts.codec = Codec::kNone;
  std::unique_ptr<ParquetReader> r;
  Batch b = RandomBatch(schema, 100000, 0, 6, 0);
  Batch got = RoundTrip(TempPath("rgbytes"), schema, {b}, opts, &r);
  ExpectSameData(b, got);
  EXPECT_GE(r->num_row_groups(), 5);
}

// Damaged files must give errors, never crashes.
TEST(ParquetRoundTrip, CorruptFilesAreErrors) {
  Schema schema = AllTypesSchema();
  std::string path = TempPath("corrupt_src");
  ParquetWriterOptions opts;
  opts.page_bytes = 2048;
  RoundTrip(path, schema, {RandomBatch(schema, 2000, 0.2, 7)}, opts, nullptr, /*keep_file=*/true);
  std::ifstream in(path, std::ios::binary);
  std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(99);
  std::string bad_path = TempPath("corrupt");
  int errors = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string data = good;
    if (iter % 3 == 0) {
      data.resize(rng() % data.size());
    } else {
      int flips = 1 + rng() % 8;
      for (int k = 0; k < flips; ++k) data[rng() % data.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    { std::ofstream out(bad_path, std::ios::binary | std::ios::trunc); out << data; }
    auto r = ParquetReader::Open(bad_path);
    if (!r.ok()) { ++errors; continue; }
    for (int g = 0; g < (*r)->num_row_groups(); ++g) {
      if (!(*r)->ReadRowGroup(g).ok()) ++errors;
      for (int c = 0; c < 7; ++c) (void)(*r)->Statistics(g, c);
    }
  }
  EXPECT_GT(errors, 100);
  std::remove(path.c_str());
  std::remove(bad_path.c_str());
}

}  // namespace
}  // namespace de::engine
