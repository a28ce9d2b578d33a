// Thrift compact protocol: byte-exact encodings (hand-computed from the spec) and parse round trips.
#include "engine/parquet/thrift_compact.h"

#include <string>

#include "gtest/gtest.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/parquet_format.h"

namespace de::engine {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(ThriftCompact, Varints) {
  std::string s;
  thrift::AppendVarint(&s, 0);
  thrift::AppendVarint(&s, 1);
  thrift::AppendVarint(&s, 127);
  thrift::AppendVarint(&s, 128);
  thrift::AppendVarint(&s, 50399);  // the spec's example: 0xDF 0x89 0x03
  EXPECT_EQ(s, Bytes({0x00, 0x01, 0x7F, 0x80, 0x01, 0xDF, 0x89, 0x03}));
}

TEST(ThriftCompact, ZigZag) {
  EXPECT_EQ(ZigZagEncode64(0), 0u);
  EXPECT_EQ(ZigZagEncode64(-1), 1u);
  EXPECT_EQ(ZigZagEncode64(1), 2u);
  EXPECT_EQ(ZigZagEncode64(-2), 3u);
  EXPECT_EQ(ZigZagEncode64(2), 4u);
  EXPECT_EQ(ZigZagEncode64(INT64_MIN), UINT64_MAX);
  for (int64_t v : std::initializer_list<int64_t>{0, 1, -1, 123456789, -987654321, INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(ZigZagDecode64(ZigZagEncode64(v)), v);
  }
}

TEST(ThriftCompact, FieldHeaders) {
  std::string s;
  thrift::CompactWriter w(&s);
  w.BeginStruct();
  w.FieldI32(1, 3);        // delta 1, type 5: 0x15, zigzag(3)=6
  w.FieldI64(4, -1);       // delta 3, type 6: 0x36, zigzag(-1)=1
  w.FieldBool(5, true);    // delta 1, type 1: 0x11
  w.FieldBool(6, false);   // delta 1, type 2: 0x12
  w.FieldBinary(30, "ab"); // delta 24 > 15: long form 0x08, zigzag(30)=60=0x3C, len 2, 'a' 'b'
  w.FieldList(31, thrift::kI32, 2);  // delta 1, type 9: 0x19, list header 0x25, elements
  w.ElemI32(1);
  w.ElemI32(-1);
  w.EndStruct();           // stop 0x00
  EXPECT_EQ(s, Bytes({0x15, 0x06, 0x36, 0x01, 0x11, 0x12, 0x08, 0x3C, 0x02, 'a', 'b', 0x19, 0x25, 0x02, 0x01, 0x00}));
}

TEST(ThriftCompact, LongListHeaderAndNestedStructs) {
  std::string s;
  thrift::CompactWriter w(&s);
  w.BeginStruct();
  w.FieldList(1, thrift::kBinary, 20);  // 0x19, 0xF8, varint 20
  for (int i = 0; i < 20; ++i) w.ElemBinary("");
  w.FieldStruct(2);  // 0x1C
  w.FieldI32(1, 0);  // nested ids restart: 0x15 0x00
  w.EndStruct();
  w.FieldI32(3, 1);  // back in the outer struct: delta 1 from 2
  w.EndStruct();
  std::string want = Bytes({0x19, 0xF8, 20});
  want += std::string(20, '\0');
  want += Bytes({0x1C, 0x15, 0x00, 0x00, 0x15, 0x02, 0x00});
  EXPECT_EQ(s, want);

  thrift::CompactReader r(s.data(), s.size());
  ASSERT_TRUE(r.BeginStruct().ok());
  thrift::FieldHeader h;
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 1);
  EXPECT_EQ(h.type, thrift::kList);
  ASSERT_TRUE(r.Skip(h.type).ok());
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 2);
  ASSERT_TRUE(r.Skip(h.type).ok());
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 3);
  int32_t v = 0;
  ASSERT_TRUE(r.ReadI32(&v).ok());
  EXPECT_EQ(v, 1);
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.type, thrift::kStop);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ThriftCompact, ReaderRejectsTruncatedInput) {
  std::string s = Bytes({0x18, 0x05, 'a'});  // binary of length 5, only 1 byte present
  thrift::CompactReader r(s.data(), s.size());
  ASSERT_TRUE(r.BeginStruct().ok());
  thrift::FieldHeader h;
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  std::string out;
  EXPECT_FALSE(r.ReadBinary(&out).ok());
  std::string deep(200, static_cast<char>(0x1C));  // struct in struct in struct ...
  thrift::CompactReader r2(deep.data(), deep.size());
  EXPECT_FALSE(r2.Skip(thrift::kStruct).ok());
}

TEST(ParquetFormat, PageHeaderRoundTrip) {
  parquet::PageHeader h;
  h.type = parquet::PageType::kDataPage;
  h.uncompressed_page_size = 1000;
  h.compressed_page_size = 321;
  auto& d = h.data_page_header.emplace();
  d.num_values = 77;
  d.encoding = parquet::Encoding::kRleDictionary;
  d.statistics.emplace().null_count = 3;
  std::string s;
  parquet::SerializePageHeader(h, &s);
  s += "trailing page data";
  parquet::PageHeader g;
  size_t used = 0;
  ASSERT_TRUE(parquet::ParsePageHeader(s.data(), s.size(), &g, &used).ok());
  EXPECT_EQ(s.substr(used), "trailing page data");
  EXPECT_EQ(g.uncompressed_page_size, 1000);
  EXPECT_EQ(g.compressed_page_size, 321);
  ASSERT_TRUE(g.data_page_header.has_value());
  EXPECT_EQ(g.data_page_header->num_values, 77);
  EXPECT_EQ(g.data_page_header->encoding, parquet::Encoding::kRleDictionary);
  EXPECT_EQ(g.data_page_header->statistics->null_count.value_or(0), 3);
  for (size_t cut = 0; cut < used; ++cut) {
    parquet::PageHeader t;
    size_t u;
    EXPECT_FALSE(parquet::ParsePageHeader(s.data(), cut, &t, &u).ok()) << cut;
  }
}

TEST(ParquetFormat, FileMetaDataRoundTrip) {
  parquet::FileMetaData m;
  parquet::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  parquet::SchemaElement leaf;
  leaf.name = "ts";
  leaf.type = parquet::PhysicalType::kInt64;
  leaf.repetition_type = parquet::Repetition::kOptional;
  leaf.converted_type = parquet::ConvertedType::kTimestampMicros;
  leaf.logical_type.kind = parquet::LogicalType::kTimestamp;
  leaf.logical_type.is_adjusted_to_utc = true;
  leaf.logical_type.unit = parquet::TimeUnit::kMicros;
  m.schema = {root, leaf};
  m.num_rows = 5;
  parquet::RowGroup rg;
  rg.num_rows = 5;
  parquet::ColumnChunk cc;
  auto& md = cc.meta_data.emplace();
  md.type = parquet::PhysicalType::kInt64;
  md.encodings = {parquet::Encoding::kPlain, parquet::Encoding::kRle};
  md.path_in_schema = {"ts"};
  md.num_values = 5;
  md.data_page_offset = 4;
  md.dictionary_page_offset = 4;
  rg.columns.push_back(cc);
  m.row_groups.push_back(rg);
  m.key_value_metadata.push_back({"k", "v"});
  m.created_by = "de version 0.1.0 (build de)";
  m.num_column_orders = 1;
  std::string s;
  parquet::SerializeFileMetaData(m, &s);
  parquet::FileMetaData g;
  ASSERT_TRUE(parquet::ParseFileMetaData(s.data(), s.size(), &g).ok());
  ASSERT_EQ(g.schema.size(), 2u);
  EXPECT_EQ(g.schema[1].logical_type.kind, parquet::LogicalType::kTimestamp);
  EXPECT_TRUE(g.schema[1].logical_type.is_adjusted_to_utc);
  EXPECT_EQ(g.schema[1].logical_type.unit, parquet::TimeUnit::kMicros);
  EXPECT_EQ(g.schema[1].converted_type, parquet::ConvertedType::kTimestampMicros);
  EXPECT_EQ(g.num_rows, 5);
  ASSERT_EQ(g.row_groups.size(), 1u);
  EXPECT_EQ(g.row_groups[0].columns[0].meta_data->path_in_schema[0], "ts");
  EXPECT_EQ(g.row_groups[0].columns[0].meta_data->dictionary_page_offset.value_or(0), 4);
  EXPECT_EQ(g.key_value_metadata[0].value.value_or(""), "v");
  EXPECT_EQ(g.created_by.value_or(""), "de version 0.1.0 (build de)");
  EXPECT_EQ(g.num_column_orders, 1);
  for (size_t cut = 0; cut < s.size(); ++cut) {
    parquet::FileMetaData t;
    EXPECT_FALSE(parquet::ParseFileMetaData(s.data(), cut, &t).ok()) << cut;
  }
}

}  // namespace
}  // namespace de::engine
