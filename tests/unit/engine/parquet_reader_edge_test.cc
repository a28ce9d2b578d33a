// Parquet files that other writers produce and DuckDB cannot be asked to write, assembled page by
// page here: a page compressed as several gzip members, an empty (zero-byte) v2 data page, a
// zero-row column chunk whose data page offset is 0, FLOAT16, Hadoop-framed LZ4, FLBA and
// BYTE_ARRAY decimals, an unsupported codec named in the error, and dictionary indices past the
// dictionary (a damaged file).
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/io/codec.h"
#include "engine/parquet/encoding.h"
#include "engine/parquet/parquet_format.h"
#include "engine/parquet/parquet_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

namespace pq = parquet;
using ::testing::HasSubstr;

// One row group of one column: its row count and its pages (header + body, serialized).
struct Chunk {
  int64_t rows = 0;
  std::string pages;
  bool zero_offsets = false;  // a writer that leaves data_page_offset 0 for an empty chunk
};

std::string Serialize(const pq::PageHeader& h, const std::string& body) {
  std::string out;
  pq::SerializePageHeader(h, &out);
  return out + body;
}

// A PLAIN v1 data page of a REQUIRED column.
std::string PlainV1Page(int32_t num_values, const std::string& raw, const std::string& compressed) {
  pq::PageHeader h;
  h.type = pq::PageType::kDataPage;
  h.uncompressed_page_size = static_cast<int32_t>(raw.size());
  h.compressed_page_size = static_cast<int32_t>(compressed.size());
  pq::DataPageHeader& d = h.data_page_header.emplace();
  d.num_values = num_values;
  d.encoding = pq::Encoding::kPlain;
  return Serialize(h, compressed);
}

std::string Compress(Codec c, const std::string& raw) {
  ByteBuffer out;
  EXPECT_TRUE(CompressBlock(c, 0, raw.data(), raw.size(), &out).ok());
  return std::string(out.data(), out.size());
}

std::string WriteFile(const std::string& name, pq::SchemaElement leaf, pq::CompressionCodec codec,
                      const std::vector<Chunk>& chunks) {
  std::string file = "PAR1";
  pq::FileMetaData m;
  pq::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  m.schema = {root, leaf};
  for (const Chunk& c : chunks) {
    pq::ColumnMetaData md;
    md.type = *leaf.type;
    md.encodings = {pq::Encoding::kPlain, pq::Encoding::kRle};
    md.path_in_schema = {leaf.name};
    md.codec = codec;
    md.num_values = c.rows;
    md.total_compressed_size = static_cast<int64_t>(c.pages.size());
    md.total_uncompressed_size = static_cast<int64_t>(c.pages.size());
    md.data_page_offset = c.zero_offsets ? 0 : static_cast<int64_t>(file.size());
    pq::RowGroup rg;
    rg.num_rows = c.rows;
    rg.total_byte_size = static_cast<int64_t>(c.pages.size());
    pq::ColumnChunk cc;
    cc.file_offset = md.data_page_offset;
    cc.meta_data = md;
    rg.columns.push_back(cc);
    m.row_groups.push_back(rg);
    m.num_rows += c.rows;
    file += c.pages;
  }
  std::string footer;
  pq::SerializeFileMetaData(m, &footer);
  file += footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  std::string path = testing::TempDir() + "/edge_" + std::to_string(::getpid()) + "_" + name + ".parquet";
  std::ofstream(path, std::ios::binary) << file;
  return path;
}

pq::SchemaElement Leaf(const char* name, pq::PhysicalType t, pq::Repetition rep = pq::Repetition::kRequired) {
  pq::SchemaElement e;
  e.name = name;
  e.type = t;
  e.repetition_type = rep;
  return e;
}

std::string Int32s(const std::vector<int32_t>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

Batch ReadAllOf(const std::string& path) {
  auto r = ParquetReader::Open(path);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return Batch{};
  auto b = (*r)->ReadAll();
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Batch{};
}

TEST(ParquetReaderEdge, GzipPageOfSeveralMembers) {
  std::vector<int32_t> a = {1, 2, 3, 4}, b = {5, 6, 7};
  std::string raw = Int32s(a) + Int32s(b);
  std::string members = Compress(Codec::kGzip, Int32s(a)) + Compress(Codec::kGzip, Int32s(b));
  std::string path = WriteFile("gzip_members", Leaf("x", pq::PhysicalType::kInt32), pq::CompressionCodec::kGzip,
                               {{7, PlainV1Page(7, raw, members)}});
  Batch got = ReadAllOf(path);
  ASSERT_EQ(got.num_rows, 7u);
  EXPECT_EQ(got.columns[0].i32, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(ParquetReaderEdge, EmptyV2DataPage) {
  // An OPTIONAL column: a page of 3 nulls (levels only, zero bytes of values, compressed flag set),
  // then a page of 2 values.
  pq::PageHeader h;
  h.type = pq::PageType::kDataPageV2;
  ByteBuffer levels;
  uint8_t zeros[3] = {0, 0, 0};
  RleHybridEncode(zeros, 3, 1, &levels);
  std::string lv(levels.data(), levels.size());
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(lv.size());
  pq::DataPageHeaderV2& d = h.data_page_header_v2.emplace();
  d.num_values = 3;
  d.num_nulls = 3;
  d.num_rows = 3;
  d.definition_levels_byte_length = static_cast<int32_t>(lv.size());
  d.is_compressed = true;
  std::string page1 = Serialize(h, lv);
  ByteBuffer levels2;
  uint8_t ones[2] = {1, 1};
  RleHybridEncode(ones, 2, 1, &levels2);
  std::string lv2(levels2.data(), levels2.size());
  std::string values = Compress(Codec::kZstd, Int32s({42, 43}));
  h.uncompressed_page_size = static_cast<int32_t>(lv2.size() + 8);
  h.compressed_page_size = static_cast<int32_t>(lv2.size() + values.size());
  d.num_values = d.num_rows = 2;
  d.num_nulls = 0;
  d.definition_levels_byte_length = static_cast<int32_t>(lv2.size());
  std::string page2 = Serialize(h, lv2 + values);
  std::string path = WriteFile("v2_empty", Leaf("x", pq::PhysicalType::kInt32, pq::Repetition::kOptional),
                               pq::CompressionCodec::kZstd, {{5, page1 + page2}});
  Batch got = ReadAllOf(path);
  ASSERT_EQ(got.num_rows, 5u);
  EXPECT_EQ(got.columns[0].valid, (std::vector<uint8_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(got.columns[0].i32[3], 42);
  EXPECT_EQ(got.columns[0].i32[4], 43);
}

TEST(ParquetReaderEdge, ZeroRowChunkWithOffsetZero) {
  std::string raw = Int32s({9, 8});
  std::string path = WriteFile("zero_rows", Leaf("x", pq::PhysicalType::kInt32), pq::CompressionCodec::kUncompressed,
                               {{2, PlainV1Page(2, raw, raw)}, {0, "", /*zero_offsets=*/true}});
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->num_row_groups(), 2);
  auto empty = (*r)->ReadRowGroup(1);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->num_rows, 0u);
  EXPECT_EQ(empty->columns[0].size(), 0u);
  Batch got = ReadAllOf(path);
  EXPECT_EQ(got.columns[0].i32, (std::vector<int32_t>{9, 8}));
}

TEST(ParquetReaderEdge, Float16IsReadAsDouble) {
  pq::SchemaElement e = Leaf("h", pq::PhysicalType::kFixedLenByteArray);
  e.type_length = 2;
  e.logical_type.kind = pq::LogicalType::kFloat16;
  // 1.0, -2.5, 65504 (max), 2^-24 (smallest subnormal), +inf, 0.333 (0x3555 = 0.333251953125)
  std::vector<uint16_t> halves = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x3555};
  std::string raw(reinterpret_cast<const char*>(halves.data()), halves.size() * 2);
  std::string path = WriteFile("float16", e, pq::CompressionCodec::kSnappy,
                               {{6, PlainV1Page(6, raw, Compress(Codec::kSnappy, raw))}});
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->schema()[0].type, Type::kDouble);
  Batch got = ReadAllOf(path);
  ASSERT_EQ(got.columns[0].f64.size(), 6u);
  EXPECT_EQ(got.columns[0].f64[0], 1.0);
  EXPECT_EQ(got.columns[0].f64[1], -2.5);
  EXPECT_EQ(got.columns[0].f64[2], 65504.0);
  EXPECT_EQ(got.columns[0].f64[3], std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isinf(got.columns[0].f64[4]));
  EXPECT_EQ(got.columns[0].f64[5], 0.333251953125);
}

TEST(ParquetReaderEdge, HadoopLz4) {
  std::vector<int32_t> a(1000), b(500);
  for (int i = 0; i < 1000; ++i) a[i] = i % 17;
  for (int i = 0; i < 500; ++i) b[i] = -i;
  std::string raw = Int32s(a) + Int32s(b);
  // parquet-mr splits a page into Hadoop blocks; two here.
  std::string framed = Compress(Codec::kLz4, Int32s(a)) + Compress(Codec::kLz4, Int32s(b));
  std::string path = WriteFile("hadoop_lz4", Leaf("x", pq::PhysicalType::kInt32), pq::CompressionCodec::kLz4,
                               {{1500, PlainV1Page(1500, raw, framed)}});
  Batch got = ReadAllOf(path);
  ASSERT_EQ(got.num_rows, 1500u);
  EXPECT_EQ(got.columns[0].i32[999], 999 % 17);
  EXPECT_EQ(got.columns[0].i32[1499], -499);
}

TEST(ParquetReaderEdge, FixedAndVariableWidthDecimals) {
  // FLBA(5) DECIMAL(10,2) as Spark writes: big-endian two's complement.
  pq::SchemaElement e = Leaf("amount", pq::PhysicalType::kFixedLenByteArray);
  e.type_length = 5;
  e.converted_type = pq::ConvertedType::kDecimal;
  e.precision = 10;
  e.scale = 2;
  std::string raw = std::string("\x00\x00\x00\x04\xD2", 5) + std::string("\xFF\xFF\xFF\xFF\x85", 5);  // 12.34, -1.23
  std::string path = WriteFile("flba_decimal", e, pq::CompressionCodec::kUncompressed, {{2, PlainV1Page(2, raw, raw)}});
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->schema()[0].type, Type::kDecimal);
  Batch got = ReadAllOf(path);
  EXPECT_EQ(got.columns[0].i64, (std::vector<int64_t>{1234, -123}));
  EXPECT_EQ(got.columns[0].scale, 2);
  // BYTE_ARRAY DECIMAL(12,3) with the logical type only.
  pq::SchemaElement v = Leaf("v", pq::PhysicalType::kByteArray);
  v.logical_type.kind = pq::LogicalType::kDecimal;
  v.logical_type.precision = 12;
  v.logical_type.scale = 3;
  std::string raw2 = std::string("\x02\x00\x00\x00\x01\x00", 6) + std::string("\x01\x00\x00\x00\xFF", 5);  // 256, -1
  path = WriteFile("ba_decimal", v, pq::CompressionCodec::kUncompressed, {{2, PlainV1Page(2, raw2, raw2)}});
  got = ReadAllOf(path);
  ASSERT_EQ(got.columns.size(), 1u);
  EXPECT_EQ(got.columns[0].type, Type::kDecimal);
  EXPECT_EQ(got.columns[0].i64, (std::vector<int64_t>{256, -1}));
}

TEST(ParquetReaderEdge, UnsupportedCodecIsNamed) {
  std::string raw = Int32s({1});
  std::string path = WriteFile("brotli", Leaf("x", pq::PhysicalType::kInt32), pq::CompressionCodec::kBrotli,
                               {{1, PlainV1Page(1, raw, raw)}});
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  auto b = (*r)->ReadAll();
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("column 'x': compression codec BROTLI is not supported"), std::string::npos)
      << b.status();
}

// A string chunk: a PLAIN dictionary page {"aa", "bb"}, then one RLE_DICTIONARY data page of
// 8 rows: bit width 2, a run of 4 x code 0 and a run of 4 x `last_code`.
std::string DictionaryChunkFile(const std::string& name, uint8_t last_code) {
  const std::string dict("\x02\0\0\0aa\x02\0\0\0bb", 12);
  pq::PageHeader dh;
  dh.type = pq::PageType::kDictionaryPage;
  dh.uncompressed_page_size = dh.compressed_page_size = static_cast<int32_t>(dict.size());
  pq::DictionaryPageHeader& d = dh.dictionary_page_header.emplace();
  d.num_values = 2;
  d.encoding = pq::Encoding::kPlain;
  std::string codes("\x02\x08\x00\x08", 4);
  codes.push_back(static_cast<char>(last_code));
  pq::PageHeader ph;
  ph.type = pq::PageType::kDataPage;
  ph.uncompressed_page_size = ph.compressed_page_size = static_cast<int32_t>(codes.size());
  pq::DataPageHeader& dp = ph.data_page_header.emplace();
  dp.num_values = 8;
  dp.encoding = pq::Encoding::kRleDictionary;
  return WriteFile(name, Leaf("s", pq::PhysicalType::kByteArray), pq::CompressionCodec::kUncompressed,
                   {{8, Serialize(dh, dict) + Serialize(ph, codes)}});
}

TEST(ParquetReaderEdge, DictionaryIndexOutOfRangeIsNamed) {
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "kept as codes" : "materialised");
    ParquetReadOptions ro;
    ro.keep_dictionary = keep;
    // The well-formed chunk reads (in either form) ...
    std::string good = DictionaryChunkFile("dict_good", 1);
    auto r = ParquetReader::Open(good);
    ASSERT_TRUE(r.ok()) << r.status();
    auto b = (*r)->ReadRowGroup(0, {}, ro);
    ASSERT_TRUE(b.ok()) << b.status();
    Column s = b->columns[0];
    ASSERT_TRUE(MaterializeDictionary(&s).ok());
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(s.str(0), "aa");
    EXPECT_EQ(s.str(7), "bb");
    std::remove(good.c_str());
    // ... code 2 of a 2-entry dictionary is an error naming the file, column and row group.
    std::string bad = DictionaryChunkFile("dict_bad", 2);
    r = ParquetReader::Open(bad);
    ASSERT_TRUE(r.ok()) << r.status();
    b = (*r)->ReadRowGroup(0, {}, ro);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), absl::StatusCode::kDataLoss);
    const std::string msg(b.status().message());
    EXPECT_THAT(msg, HasSubstr(bad + ": column 's' row group 0: "));
    EXPECT_THAT(msg, HasSubstr("dictionary index out of range"));
    std::remove(bad.c_str());
  }
}

}  // namespace
}  // namespace de::engine
