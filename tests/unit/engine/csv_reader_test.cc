#include "engine/csv/csv_reader.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/csv/csv_values.h"

namespace de::engine {
namespace {

using ::testing::HasSubstr;

CsvTable Read(std::string_view text, CsvReadOptions opts = {}) {
  auto t = ReadCsvText(text, opts);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : CsvTable{};
}

std::vector<std::string> Names(const CsvTable& t) {
  std::vector<std::string> out;
  for (const auto& f : t.format.schema) out.push_back(f.name);
  return out;
}

std::vector<Type> Types(const CsvTable& t) {
  std::vector<Type> out;
  for (const auto& f : t.format.schema) out.push_back(f.type);
  return out;
}

std::string Str(const CsvTable& t, size_t col, size_t row) {
  const Column& c = t.batch.columns[col];
  return c.valid[row] ? std::string(c.str(row)) : "<null>";
}

TEST(CsvReaderTest, SimpleWithHeaderAndTypes) {
  auto t = Read("id,name,score,ok,day,at\n"
                "1,alice,1.5,true,2024-01-02,2024-01-02 03:04:05\n"
                "2,bob,2,false,2024-02-29,2024-01-02T03:04:05.25Z\n");
  EXPECT_TRUE(t.format.header);
  EXPECT_EQ(t.format.delimiter, ',');
  EXPECT_EQ(Names(t), (std::vector<std::string>{"id", "name", "score", "ok", "day", "at"}));
  EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64, Type::kString, Type::kDouble, Type::kBool,
                                         Type::kDate, Type::kTimestamp}));
  ASSERT_EQ(t.batch.num_rows, 2u);
  EXPECT_EQ(t.batch.columns[0].i64, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Str(t, 1, 1), "bob");
  EXPECT_EQ(t.batch.columns[2].f64, (std::vector<double>{1.5, 2.0}));
  EXPECT_EQ(t.batch.columns[3].u8, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(FormatDate(t.batch.columns[4].i32[1]), "2024-02-29");
  EXPECT_EQ(FormatTimestamp(t.batch.columns[5].i64[1]), "2024-01-02 03:04:05.250000");
  EXPECT_EQ(t.stats.rows_in, 2);
  EXPECT_EQ(t.stats.rows_out, 2);
}

TEST(CsvReaderTest, QuotedFieldsDoubledQuotesEmbeddedDelimitersAndNewlines) {
  auto t = Read("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"line1\nline2\",\"\"\n3,\"\"\"\"\n");
  ASSERT_EQ(t.batch.num_rows, 3u);
  EXPECT_EQ(Str(t, 0, 0), "x,y");
  EXPECT_EQ(Str(t, 1, 0), "say \"hi\"");
  EXPECT_EQ(Str(t, 0, 1), "line1\nline2");
  EXPECT_EQ(Str(t, 1, 1), "");  // quoted empty is an empty string, not null
  EXPECT_EQ(Str(t, 1, 2), "\"");
}

TEST(CsvReaderTest, CrlfAndBom) {
  auto t = Read("\xEF\xBB\xBFk,v\r\n1,\"a\"\r\n2,b\r\n");
  EXPECT_EQ(Names(t), (std::vector<std::string>{"k", "v"}));
  ASSERT_EQ(t.batch.num_rows, 2u);
  EXPECT_EQ(Str(t, 1, 0), "a");
  EXPECT_EQ(Str(t, 1, 1), "b");
  EXPECT_EQ(t.batch.columns[0].i64, (std::vector<int64_t>{1, 2}));
}

TEST(CsvReaderTest, QuotedCrlfInsideFieldIsKept) {
  auto t = Read("k,v\r\n1,\"a\r\nb\"\r\n");
  ASSERT_EQ(t.batch.num_rows, 1u);
  EXPECT_EQ(Str(t, 1, 0), "a\r\nb");
}

TEST(CsvReaderTest, NoTrailingNewline) {
  auto t = Read("k,v\n1,a\n2,b");
  ASSERT_EQ(t.batch.num_rows, 2u);
  EXPECT_EQ(Str(t, 1, 1), "b");
}

TEST(CsvReaderTest, EmptyFile) {
  auto t = Read("");
  EXPECT_TRUE(t.format.schema.empty());
  EXPECT_EQ(t.batch.num_rows, 0u);
}

TEST(CsvReaderTest, HeaderOnly) {
  auto t = Read("alpha,beta,gamma\n");
  EXPECT_TRUE(t.format.header);
  EXPECT_EQ(Names(t), (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(Types(t), (std::vector<Type>(3, Type::kString)));
  EXPECT_EQ(t.batch.num_rows, 0u);
}

TEST(CsvReaderTest, HeaderDetectionWithoutHeader) {
  auto t = Read("1,2.5,x\n2,3.5,y\n");
  EXPECT_FALSE(t.format.header);
  EXPECT_EQ(Names(t), (std::vector<std::string>{"column0", "column1", "column2"}));
  EXPECT_EQ(t.batch.num_rows, 2u);
}

TEST(CsvReaderTest, HeaderOverride) {
  CsvReadOptions o;
  o.header = false;
  auto t = Read("a,b\nc,d\n", o);
  EXPECT_FALSE(t.format.header);
  EXPECT_EQ(t.batch.num_rows, 2u);
  o.header = true;
  auto t2 = Read("1,2\n3,4\n", o);
  EXPECT_EQ(Names(t2), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(t2.batch.num_rows, 1u);
}

TEST(CsvReaderTest, DuplicateAndEmptyHeaderNames) {
  CsvReadOptions o;
  o.header = true;
  auto t = Read("a,a,\n1,2,3\n", o);
  EXPECT_EQ(Names(t), (std::vector<std::string>{"a", "a_1", "column2"}));
}

TEST(CsvReaderTest, DelimiterDetection) {
  EXPECT_EQ(Read("a;b;c\n1;2;3\n4;5;6\n").format.delimiter, ';');
  EXPECT_EQ(Read("a\tb\n1\t2\n").format.delimiter, '\t');
  EXPECT_EQ(Read("a|b\n1|2\n").format.delimiter, '|');
  EXPECT_EQ(Read("a,b\n\"1;2\",3\n\"4;5\",6\n").format.delimiter, ',');
  // A single column falls back to a comma.
  EXPECT_EQ(Read("only\nx\ny\n").format.delimiter, ',');
  CsvReadOptions o;
  o.delimiter = '|';
  EXPECT_EQ(Read("a,b\n1,2\n", o).format.schema.size(), 1u);
}

TEST(CsvReaderTest, CustomQuote) {
  CsvReadOptions o;
  o.quote = '\'';
  auto t = Read("a,b\n'x,y',2\n", o);
  ASSERT_EQ(t.batch.num_rows, 1u);
  EXPECT_EQ(Str(t, 0, 0), "x,y");
}

TEST(CsvReaderTest, NullValues) {
  CsvReadOptions o;
  o.null_values = {"NA", "N/A"};
  auto t = Read("a,b,c\n1,NA,x\nN/A,2,\n3,4,NA\n", o);
  ASSERT_EQ(t.batch.num_rows, 3u);
  EXPECT_EQ(t.format.schema[0].type, Type::kInt64);
  EXPECT_EQ(t.format.schema[1].type, Type::kInt64);
  EXPECT_EQ(t.batch.columns[0].valid, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(t.batch.columns[1].valid, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(t.batch.columns[2].valid, (std::vector<uint8_t>{1, 0, 0}));
}

TEST(CsvReaderTest, RaggedRowsAreRejectedWithLineNumbers) {
  auto t = Read("a,b\n1,2\n3\n\"multi\nline\",5\n6,7,8\n9,10\n");
  EXPECT_EQ(t.batch.num_rows, 3u);
  ASSERT_EQ(t.rejects.size(), 2u);
  EXPECT_EQ(t.rejects[0].line, 3);
  EXPECT_THAT(t.rejects[0].reason, HasSubstr("expected 2 fields, found 1"));
  EXPECT_EQ(t.rejects[0].raw, "3");
  EXPECT_EQ(t.rejects[1].line, 6);  // the quoted newline counts as a line
  EXPECT_EQ(t.rejects[1].raw, "6,7,8");
  EXPECT_EQ(t.stats.rows_in, 5);
  EXPECT_EQ(t.stats.rows_rejected, 2);
}

TEST(CsvReaderTest, BadValueRejectNullFail) {
  const char* text = "n,s\n1,a\nx,b\n3,c\n";
  CsvReadOptions o;
  o.schema = {{"n", Type::kInt64}};
  auto r = Read(text, o);
  EXPECT_EQ(r.batch.num_rows, 2u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 3);
  EXPECT_THAT(r.rejects[0].reason, HasSubstr("column 'n': 'x' is not an int64"));

  o.on_error = OnError::kNull;
  auto n = Read(text, o);
  EXPECT_EQ(n.batch.num_rows, 3u);
  EXPECT_EQ(n.batch.columns[0].valid, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(n.stats.values_nulled, 1);
  EXPECT_TRUE(n.rejects.empty());

  o.on_error = OnError::kFail;
  auto f = ReadCsvText(text, o, "in.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("in.csv:3: column 'n'"));
}

TEST(CsvReaderTest, NullModePadsShortRows) {
  CsvReadOptions o;
  o.on_error = OnError::kNull;
  o.header = true;
  auto t = Read("a,b,c\n1,2,3\n4\n5,6,7,8\n", o);
  EXPECT_EQ(t.batch.num_rows, 2u);
  EXPECT_EQ(t.batch.columns[2].valid, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(t.rejects.size(), 1u);  // too many fields cannot be nulled
}

TEST(CsvReaderTest, MalformedQuotesAndUnterminated) {
  auto t = Read("a,b\n\"ab\"c,2\nok,3\n");
  ASSERT_EQ(t.rejects.size(), 1u);
  EXPECT_THAT(t.rejects[0].reason, HasSubstr("malformed quoted field"));
  EXPECT_EQ(t.rejects[0].line, 2);
  EXPECT_EQ(t.batch.num_rows, 1u);

  CsvReadOptions o;
  o.header = true;
  auto u = Read("a,b\nok,3\n\"open,4\n5,6\n", o);
  EXPECT_EQ(u.batch.num_rows, 1u);
  ASSERT_EQ(u.rejects.size(), 1u);
  EXPECT_THAT(u.rejects[0].reason, HasSubstr("unterminated quoted field"));
  EXPECT_EQ(u.rejects[0].line, 3);
  EXPECT_EQ(u.rejects[0].raw, "\"open,4\n5,6");
}

TEST(CsvReaderTest, BlankLinesAreSkipped) {
  auto t = Read("a,b\n1,2\n\n3,4\n\r\n");
  EXPECT_EQ(t.batch.num_rows, 2u);
  EXPECT_TRUE(t.rejects.empty());
}

TEST(CsvReaderTest, InvalidUtf8IsABadValue) {
  auto t = Read("a,b\n1,caf\xC3\xA9\n2,bad\xFF\n");
  EXPECT_EQ(t.batch.num_rows, 1u);
  ASSERT_EQ(t.rejects.size(), 1u);
  EXPECT_THAT(t.rejects[0].reason, HasSubstr("invalid UTF-8"));
  EXPECT_EQ(Str(t, 1, 0), "caf\xC3\xA9");
}

TEST(CsvReaderTest, BinaryGarbageIsNotCsv) {
  std::string bin = "PK\x03\x04";
  bin.push_back('\0');
  bin += "garbage";
  auto t = ReadCsvText(bin, {}, "x.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("x.csv does not look like CSV"));
}

// A NUL byte makes its value bad (a reject, a null, or a failure per on_error) whether it falls
// inside the sniffing sample or after it; it neither fails the file nor sways type inference.
TEST(CsvReaderTest, NulByteIsTheSameInsideAndBeyondTheSample) {
  std::string rows = "id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n";
  for (int where : {2, 6}) {  // line 2 is in the 3-row sample, line 6 beyond it
    SCOPED_TRACE(where);
    std::string text;
    int line = 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      text.push_back(rows[i]);
      if (rows[i] == '\n' && ++line == where) {  // put a NUL into this line's id and name
        text += std::string("9\0", 2) + "," + std::string("x\0y", 3) + "\n";
        while (rows[++i] != '\n') {}
        ++line;
      }
    }
    CsvReadOptions o;
    o.sample_rows = 3;
    o.sample_bytes = 20;  // the header and about 3 rows: line 6 is beyond the sniffed bytes
    auto t = Read(text, o);
    EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64, Type::kString}));
    EXPECT_EQ(t.batch.num_rows, 5u);
    ASSERT_EQ(t.rejects.size(), 1u);
    EXPECT_EQ(t.rejects[0].line, where);
    EXPECT_EQ(t.rejects[0].reason, "NUL byte in column 'id'");
    o.on_error = OnError::kNull;
    auto n = Read(text, o);
    EXPECT_EQ(n.batch.num_rows, 6u);
    EXPECT_EQ(n.stats.values_nulled, 2);
    o.on_error = OnError::kFail;
    auto f = ReadCsvText(text, o, "in.csv");
    ASSERT_FALSE(f.ok());
    EXPECT_THAT(f.status().message(), HasSubstr(absl::StrCat("in.csv:", where, ": NUL byte in column 'id'")));
  }
}

TEST(CsvReaderTest, ExplicitSchemaByNameAndByPosition) {
  CsvReadOptions o;
  o.schema = {{"b", Type::kString}};
  auto t = Read("a,b\n1,2\n", o);
  EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64, Type::kString}));
  EXPECT_FALSE(t.format.inferred[1]);

  o.schema = {{"x", Type::kInt32}, {"y", Type::kDouble}};
  o.header = false;
  auto t2 = Read("1,2\n3,4\n", o);
  EXPECT_EQ(Names(t2), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t2.batch.columns[0].i32, (std::vector<int32_t>{1, 3}));

  o.schema = {{"nope", Type::kInt32}};
  o.header = true;
  auto bad = ReadCsvText("a,b\n1,2\n", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'nope' is not in"));
}

TEST(CsvReaderTest, Int32RangeIsChecked) {
  CsvReadOptions o;
  o.schema = {{"a", Type::kInt32}};
  auto t = Read("a\n2147483647\n2147483648\n", o);
  EXPECT_EQ(t.batch.num_rows, 1u);
  EXPECT_EQ(t.rejects.size(), 1u);
}

TEST(CsvInferenceTest, Widening) {
  auto t = Read("i,d,ts,s,b,z,n\n"
                "1,1,2024-01-01,1,true,007,\n"
                "2,2.5,2024-01-01 10:00:00,x,FALSE,008,\n"
                "-3,1e3,2024-01-02,2024-01-01,True,009,\n");
  EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64, Type::kDouble, Type::kTimestamp,
                                         Type::kString, Type::kBool, Type::kString,
                                         Type::kString}));
  // Dates widened to timestamps are midnight.
  EXPECT_EQ(FormatTimestamp(t.batch.columns[2].i64[0]), "2024-01-01 00:00:00");
  // An all-null column is a string column of nulls.
  EXPECT_EQ(t.batch.columns[6].valid, (std::vector<uint8_t>{0, 0, 0}));
}

TEST(CsvInferenceTest, BoolOnlyForTrueFalse) {
  auto t = Read("a,b\n0,yes\n1,no\n");
  EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64, Type::kString}));
}

TEST(CsvInferenceTest, ValuesBeyondTheSampleFollowOnError) {
  CsvReadOptions o;
  o.sample_rows = 2;
  auto t = Read("a\n1\n2\n3\nx\n", o);
  EXPECT_EQ(Types(t), (std::vector<Type>{Type::kInt64}));
  ASSERT_EQ(t.rejects.size(), 1u);
  EXPECT_THAT(t.rejects[0].reason, HasSubstr("inferred"));
  EXPECT_EQ(t.rejects[0].line, 5);
}

TEST(CsvSplitterTest, ChunksEndAtRowBoundariesAndCountLines) {
  std::string text = "\xEF\xBB\xBFh1,h2\n";
  for (int i = 0; i < 2000; ++i) {
    text += std::to_string(i) + ",\"v" + std::to_string(i) + (i % 7 == 0 ? "\nx" : "") + "\"\r\n";
  }
  text += "last,\"no newline\"";
  auto in = NewMemoryInputStream(text, "mem.csv");
  CsvSplitter splitter(in.get(), '"', 100, 1 << 20);
  CsvFormat fmt;
  fmt.header = true;
  fmt.schema = {{"h1", Type::kString}, {"h2", Type::kString}};
  fmt.inferred = {true, true};
  CsvChunkParser parser(fmt);
  Batch batch;
  InitBatch(fmt.schema, &batch);
  CsvParseStats stats;
  std::vector<CsvReject> rejects;
  CsvChunk chunk;
  int chunks = 0;
  while (true) {
    auto more = splitter.Next(&chunk);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++chunks;
    ASSERT_EQ(chunk.data[chunk.size - 1], '\n');
    ASSERT_TRUE(parser.Parse(chunk.data.get(), chunk.size, chunk.first_line, chunk.file_start,
                             "mem.csv", &batch, &stats, &rejects)
                    .ok());
  }
  EXPECT_GT(chunks, 10);
  EXPECT_TRUE(rejects.empty());
  ASSERT_EQ(batch.num_rows, 2001u);
  EXPECT_EQ(batch.columns[0].str(0), "0");
  EXPECT_EQ(batch.columns[1].str(7), "v7\nx");
  EXPECT_EQ(batch.columns[1].str(2000), "no newline");
}

// Splits `text` into chunks of about `chunk_bytes` and parses them one after another.
struct SplitParsed {
  Batch batch;
  CsvParseStats stats;
  std::vector<CsvReject> rejects;
  int64_t lines = 0;  // the splitter's count at the end
};
SplitParsed SplitAndParse(const std::string& text, const CsvFormat& fmt, size_t chunk_bytes) {
  SplitParsed r;
  auto in = NewMemoryInputStream(text, "m.csv");
  CsvSplitter splitter(in.get(), fmt.quote, chunk_bytes, 1 << 20);
  CsvChunkParser parser(fmt);
  InitBatch(fmt.schema, &r.batch);
  CsvChunk chunk;
  int64_t last_first_line = 0;
  while (*splitter.Next(&chunk)) {
    EXPECT_GT(chunk.first_line, last_first_line);
    last_first_line = chunk.first_line;
    EXPECT_TRUE(parser.Parse(chunk.data.get(), chunk.size, chunk.first_line, chunk.file_start,
                             "m.csv", &r.batch, &r.stats, &r.rejects)
                    .ok());
  }
  r.lines = splitter.lines();
  return r;
}

TEST(CsvSplitterTest, LineNumbersAcrossChunks) {
  std::string text = "a,b\n";
  for (int i = 0; i < 500; ++i) text += (i == 400 ? "bad\n" : "1,\"x\ny\"\n");
  CsvFormat fmt;
  fmt.schema = {{"a", Type::kInt64}, {"b", Type::kString}};
  fmt.inferred = {true, true};
  SplitParsed r = SplitAndParse(text, fmt, 64);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 2 + 400 * 2);
}

// Without quoting, the chunk's lines are counted by the boundary search too.
TEST(CsvSplitterTest, LineNumbersAcrossChunksWithoutQuoting) {
  std::string text = "a,b\n";
  for (int i = 0; i < 500; ++i) text += (i == 321 ? "bad\n" : "1,x\n");
  CsvFormat fmt;
  fmt.quote = 0;
  fmt.schema = {{"a", Type::kInt64}, {"b", Type::kString}};
  fmt.inferred = {true, true};
  SplitParsed r = SplitAndParse(text, fmt, 64);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 2 + 321);
  EXPECT_EQ(r.lines, 502);
}

TEST(CsvSplitterTest, OverlongRowIsAnError) {
  std::string text = "a\n\"" + std::string(10000, 'x');
  auto in = NewMemoryInputStream(text, "m.csv");
  CsvSplitter splitter(in.get(), '"', 64, 1024);
  CsvChunk chunk;
  absl::Status st;
  while (true) {
    auto more = splitter.Next(&chunk);
    if (!more.ok()) {
      st = more.status();
      break;
    }
    if (!*more) break;
  }
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("m.csv:2: a row longer than"));
}

TEST(CsvWriterTest, AppendCsvFieldQuotes) {
  std::string out;
  AppendCsvField("plain", &out);
  out += ',';
  AppendCsvField("a,\"b\"\nc", &out);
  EXPECT_EQ(out, "plain,\"a,\"\"b\"\"\nc\"");
}

}  // namespace
}  // namespace de::engine
