// The chunk parser with projection pushdown: skipped columns are tokenized but not converted.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/csv/csv_index.h"
#include "engine/csv/csv_reader.h"
#include "engine/csv/csv_tokenize.h"
#include "engine/csv/csv_values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  CsvFormat format;
  Batch batch;
  CsvParseStats stats;
  std::vector<CsvReject> rejects;
  absl::Status status;
};

// Sniffs `text` with `opts`, then parses it reading only the columns marked in `needed`.
Parsed ParseProjected(const std::string& text, std::vector<bool> needed, CsvReadOptions opts = {}) {
  Parsed p;
  auto f = SniffCsv(text, true, opts, "in.csv");
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return p;
  p.format = *f;
  InitBatch(p.format.schema, &p.batch);
  CsvChunkParser parser(p.format, std::move(needed));
  p.status = parser.Parse(text.data(), text.size(), 1, p.format.header, "in.csv", &p.batch,
                          &p.stats, &p.rejects);
  return p;
}

CsvReadOptions Typed(std::vector<std::pair<std::string, Type>> schema) {
  CsvReadOptions o;
  o.header = true;
  o.schema = std::move(schema);
  return o;
}

TEST(CsvProjectionTest, SkippedColumnsStayEmptyAndNeededOnesAreRead) {
  Parsed p = ParseProjected("a,b,c\n1,x,10\n2,y,20\n", {true, false, true},
                            Typed({{"a", Type::kInt64}, {"c", Type::kInt64}}));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.batch.num_rows, 2u);
  EXPECT_EQ(p.batch.columns[0].i64, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(p.batch.columns[1].size(), 0u);  // skipped: no values, no bytes
  EXPECT_TRUE(p.batch.columns[1].bytes.empty());
  EXPECT_EQ(p.batch.columns[2].i64, (std::vector<int64_t>{10, 20}));
}

TEST(CsvProjectionTest, QuotesNewlinesAndDelimitersInsideSkippedFields) {
  const std::string text =
      "id,note,n\n"
      "1,\"has, a comma\",5\n"
      "2,\"two\nlines, \"\"quoted\"\"\",6\n"
      "3,\"\",7\r\n"
      "4,plain,8\n";
  Parsed p = ParseProjected(text, {true, false, true},
                            Typed({{"id", Type::kInt64}, {"note", Type::kString},
                                   {"n", Type::kInt64}}));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_TRUE(p.rejects.empty());
  EXPECT_EQ(p.batch.columns[0].i64, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(p.batch.columns[2].i64, (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(p.batch.columns[1].size(), 0u);
}

TEST(CsvProjectionTest, BadNeededValueRejectsWithLineAndReason) {
  // Line 3 holds a quoted newline, so the bad row starts on physical line 5.
  const std::string text =
      "id,note,n\n"
      "1,ok,5\n"
      "2,\"multi\nline\",6\n"
      "3,fine,seven\n"
      "4,x,8\n";
  Parsed p = ParseProjected(text, {true, false, true},
                            Typed({{"id", Type::kInt64}, {"n", Type::kInt64}}));
  ASSERT_TRUE(p.status.ok()) << p.status;
  ASSERT_EQ(p.rejects.size(), 1u);
  EXPECT_EQ(p.rejects[0].line, 5);
  EXPECT_THAT(p.rejects[0].reason, HasSubstr("column 'n': 'seven' is not an int64"));
  EXPECT_EQ(p.rejects[0].raw, "3,fine,seven");
  EXPECT_EQ(p.batch.columns[0].i64, (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(p.batch.columns[2].i64, (std::vector<int64_t>{5, 6, 8}));
  EXPECT_EQ(p.stats.rows_rejected, 1);
  EXPECT_EQ(p.stats.rows_out, 3);
}

TEST(CsvProjectionTest, BadValueInSkippedColumnDoesNotRejectTheRow) {
  const std::string text = "id,when,n\n1,2024-01-01,5\n2,not a date,6\n3,2024-01-03,7\n";
  auto opts = Typed({{"id", Type::kInt64}, {"when", Type::kDate}, {"n", Type::kInt64}});
  Parsed skipped = ParseProjected(text, {true, false, true}, opts);
  ASSERT_TRUE(skipped.status.ok());
  EXPECT_TRUE(skipped.rejects.empty());
  EXPECT_EQ(skipped.batch.columns[2].i64, (std::vector<int64_t>{5, 6, 7}));
  // Read, the same column rejects the row.
  Parsed all = ParseProjected(text, {}, opts);
  ASSERT_EQ(all.rejects.size(), 1u);
  EXPECT_EQ(all.rejects[0].line, 3);
  EXPECT_THAT(all.rejects[0].reason, HasSubstr("column 'when'"));
}

TEST(CsvProjectionTest, RowStructureIsStillCheckedInSkippedColumns) {
  const std::string text = "id,note,n\n1,x,6,extra\n2,\"ok\"junk,7\n3,y,8\n";
  Parsed p = ParseProjected(text, {true, false, true},
                            Typed({{"id", Type::kInt64}, {"n", Type::kInt64}}));
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.rejects.size(), 2u);
  EXPECT_EQ(p.rejects[0].line, 2);
  EXPECT_THAT(p.rejects[0].reason, HasSubstr("expected 3 fields, found 4"));
  EXPECT_EQ(p.rejects[1].line, 3);
  EXPECT_THAT(p.rejects[1].reason, HasSubstr("malformed quoted field in column 'note'"));
  EXPECT_EQ(p.batch.columns[0].i64, (std::vector<int64_t>{3}));
}

TEST(CsvProjectionTest, OnErrorFailNamesTheLineOfANeededColumn) {
  CsvReadOptions o = Typed({{"id", Type::kInt64}, {"n", Type::kInt64}});
  o.on_error = OnError::kFail;
  Parsed p = ParseProjected("id,note,n\n1,\"a\nb\",5\n2,z,x\n", {false, false, true}, o);
  EXPECT_FALSE(p.status.ok());
  EXPECT_THAT(std::string(p.status.message()), HasSubstr("in.csv:4: column 'n'"));
}

// The indexed tokenizer splits every row exactly like the scanning one (fields, lines, ends).
void ExpectSameTokens(const std::string& text) {
  using csv_internal::RawField;
  uint8_t special[256];
  csv_internal::BuildSpecial(',', '"', special);
  csv_internal::SpecialIndex index;
  index.Reset(text.data(), text.size(), ',', '"');
  std::vector<RawField> a, b;
  int64_t lines_a = 0, lines_b = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  size_t q = 0;
  while (p < end) {
    bool ua = false, ub = false;
    p = csv_internal::TokenizeRow(p, end, text.data(), special, ',', '"', &a, &lines_a, &ua);
    q = csv_internal::TokenizeIndexedRow(q, text.data(), text.size(), &index, ',', '"', &b,
                                         &lines_b, &ub);
    ASSERT_EQ(static_cast<size_t>(p - text.data()), q);
    ASSERT_EQ(ua, ub);
    ASSERT_EQ(lines_a, lines_b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].begin, b[i].begin);
      EXPECT_EQ(a[i].end, b[i].end);
      EXPECT_EQ(a[i].has_quote, b[i].has_quote);
    }
  }
}

TEST(CsvProjectionTest, UnterminatedQuoteTokenizesLikeTheScanner) {
  ExpectSameTokens("a,b\n1,\"open\nstill, open\n");
  ExpectSameTokens(std::string(100, 'x') + ",\"" + std::string(200, 'y') + "\"\"z\"\n1,2\n");
}

// Random CSV with quotes, doubled quotes, quoted newlines and delimiters, CRLF and blank lines:
// every projection yields exactly the needed columns, rows and rejects of the full parse.
TEST(CsvProjectionTest, RandomTextMatchesTheFullParse) {
  std::mt19937 rng(7);
  const char* pieces[] = {"1", "22", "-3", "x", "\"q,\"", "\"a\nb\"", "\"\"\"\"", "", "bad\"",
                          " 4 ", "5", "\"6\"", "7", "é"};
  for (int round = 0; round < 40; ++round) {
    std::string text = "a,b,c,d\n";
    const int rows = round % 10 == 0 ? 4000 : 60;  // some texts span several index windows
    for (int r = 0; r < rows; ++r) {
      int fields = 4 + (rng() % 11 == 0 ? 1 : 0) - (rng() % 13 == 0 ? 1 : 0);
      for (int f = 0; f < fields; ++f) {
        if (f > 0) text += ',';
        text += pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
      }
      text += rng() % 5 == 0 ? "\r\n" : "\n";
      if (rng() % 17 == 0) text += "\n";
    }
    CsvReadOptions o = Typed({{"a", Type::kInt64}, {"b", Type::kString}, {"c", Type::kInt64},
                              {"d", Type::kString}});
    Parsed all = ParseProjected(text, {}, o);
    ExpectSameTokens(text);
    for (unsigned mask = 1; mask < 16; ++mask) {
      std::vector<bool> needed = {bool(mask & 1), bool(mask & 2), bool(mask & 4), bool(mask & 8)};
      Parsed p = ParseProjected(text, needed, o);
      ASSERT_TRUE(p.status.ok());
      // A projection rejects a subset of the rows the full parse rejects (a skipped column's bad
      // value no longer counts); read in full, it is the full parse.
      for (const auto& rej : p.rejects) {
        bool also = false;
        for (const auto& r : all.rejects) also |= r.line == rej.line;
        EXPECT_TRUE(also) << "round " << round << " mask " << mask << " line " << rej.line << ": "
                          << rej.reason;
      }
      EXPECT_EQ(p.stats.rows_in, all.stats.rows_in);
      if (mask == 15) {
        EXPECT_EQ(p.rejects.size(), all.rejects.size());
        for (size_t c = 0; c < 4; ++c) {
          EXPECT_EQ(p.batch.columns[c].valid, all.batch.columns[c].valid);
          EXPECT_EQ(p.batch.columns[c].i64, all.batch.columns[c].i64);
          EXPECT_EQ(p.batch.columns[c].bytes, all.batch.columns[c].bytes);
        }
      }
      for (size_t c = 0; c < 4; ++c) {
        if (!needed[c]) EXPECT_EQ(p.batch.columns[c].size(), 0u);
        else EXPECT_EQ(p.batch.columns[c].size(), p.batch.num_rows);
      }
    }
  }
}

}  // namespace
}  // namespace de::engine

namespace de::engine {
namespace {

// The parser reuses the days of a repeated date prefix; changes of date and bad dates still count.
TEST(CsvProjectionTest, TimestampsSharingADateParseLikeTheirOwn) {
  const std::string text =
      "at\n2024-02-28 23:59:59\n2024-02-28 00:00:01\n2024-02-29 12:00:00\n2023-02-29 12:00:00\n"
      "2024-02-29 12:00:00.5\n2024-02-29X\n";
  Parsed p = ParseProjected(text, {}, Typed({{"at", Type::kTimestamp}}));
  ASSERT_TRUE(p.status.ok());
  std::vector<int64_t> want;
  for (const char* s : {"2024-02-28 23:59:59", "2024-02-28 00:00:01", "2024-02-29 12:00:00",
                        "2024-02-29 12:00:00.5"}) {
    int64_t us;
    ASSERT_TRUE(ParseCsvTimestamp(s, &us));
    want.push_back(us);
  }
  EXPECT_EQ(p.batch.columns[0].i64, want);
  ASSERT_EQ(p.rejects.size(), 2u);
  EXPECT_EQ(p.rejects[0].line, 5);  // 2023 is not a leap year
  EXPECT_EQ(p.rejects[1].line, 7);
}

}  // namespace
}  // namespace de::engine
