// The chunk parser's block path against the row parser alone: random files, mostly regular with
// every kind of irregularity sprinkled in (quotes, short and long rows, blank lines, CRLF, bad
// values, null tokens, NUL bytes, invalid UTF-8), must give the same batch, counts and rejects.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/csv/csv_reader.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

struct Result {
  Batch batch;
  CsvParseStats stats;
  std::vector<CsvReject> rejects;
  absl::Status status;
};

// Parses `text` in chunks of about `chunk` bytes (cut at row ends; no quoted newlines here).
Result Parse(const CsvFormat& format, const std::vector<bool>& needed, const std::string& text,
             bool block_path, size_t chunk = 16 << 10) {
  Result r;
  InitBatch(format.schema, &r.batch);
  CsvChunkParser parser(format, needed);
  parser.set_block_path_for_testing(block_path);
  size_t at = 0;
  int64_t line = 1;
  while (at < text.size() && r.status.ok()) {
    size_t cut = text.find('\n', std::min(text.size() - 1, at + chunk));
    cut = cut == std::string::npos ? text.size() : cut + 1;
    r.status = parser.Parse(text.data() + at, cut - at, line, format.header && at == 0, "in.csv",
                            &r.batch, &r.stats, &r.rejects);
    line += std::count(text.begin() + at, text.begin() + cut, '\n');
    at = cut;
  }
  return r;
}

void ExpectSame(const Result& a, const Result& b) {
  ASSERT_EQ(a.status.ToString(), b.status.ToString());
  ASSERT_EQ(a.batch.num_rows, b.batch.num_rows);
  EXPECT_EQ(a.stats.rows_in, b.stats.rows_in);
  EXPECT_EQ(a.stats.rows_out, b.stats.rows_out);
  EXPECT_EQ(a.stats.rows_rejected, b.stats.rows_rejected);
  EXPECT_EQ(a.stats.values_nulled, b.stats.values_nulled);
  for (size_t c = 0; c < a.batch.columns.size(); ++c) {
    const Column& x = a.batch.columns[c];
    const Column& y = b.batch.columns[c];
    EXPECT_EQ(x.valid, y.valid) << "column " << c;
    EXPECT_EQ(x.u8, y.u8) << "column " << c;
    EXPECT_EQ(x.i32, y.i32) << "column " << c;
    EXPECT_EQ(x.i64, y.i64) << "column " << c;
    EXPECT_EQ(x.f64, y.f64) << "column " << c;
    EXPECT_EQ(x.offsets, y.offsets) << "column " << c;
    EXPECT_EQ(x.bytes, y.bytes) << "column " << c;
  }
  ASSERT_EQ(a.rejects.size(), b.rejects.size());
  for (size_t i = 0; i < a.rejects.size(); ++i) {
    EXPECT_EQ(a.rejects[i].line, b.rejects[i].line);
    EXPECT_EQ(a.rejects[i].reason, b.rejects[i].reason);
    EXPECT_EQ(a.rejects[i].raw, b.rejects[i].raw);
  }
}

// One field of column `type`: a bad or odd value one time in `odd_value`, a quoted one one time
// in `odd_quote` (0: never).
std::string RandomField(Type type, std::mt19937_64& rng, int odd_value, int odd_quote) {
  if (odd_quote > 0 && rng() % odd_quote == 0) return "\"q,uo\"\"ted\"";
  if (odd_value > 0 && rng() % odd_value == 0) {
    switch (rng() % 7) {
      case 0: return "";
      case 1: return "NA";
      case 2: return "bad";
      case 3: return std::string("x\0y", 3);
      case 4: return "\xff\xfe";
      case 5: return " 7 ";
      default: return "-";
    }
  }
  switch (type) {
    case Type::kInt64: return absl::StrCat(static_cast<int64_t>(rng() % 200000) - 100000);
    case Type::kInt32: return absl::StrCat(static_cast<int32_t>(rng() % 2000) - 1000);
    case Type::kDouble: return absl::StrCat(static_cast<double>(rng() % 100000) / 64.0);
    case Type::kBool: return rng() % 2 ? "true" : "false";
    case Type::kDate: return absl::StrCat("2024-0", 1 + rng() % 9, "-1", rng() % 10);
    case Type::kTimestamp:
      return absl::StrCat("2024-01-0", 1 + rng() % 9, " 1", rng() % 10, ":3", rng() % 10, ":00");
    default: {
      static const char* kWords[] = {"LAS", "PHL", "ATL", "na\xc3\xafve", "o'hare", "x", "longer words"};
      return kWords[rng() % 7];
    }
  }
}

struct Oddness {
  int value = 0;  // a bad value one field in this many
  int quote = 0;  // a quoted field one field in this many
  int row = 0;    // a blank line, a short row or a long one, one row in this many
};

std::string MakeText(const Schema& schema, size_t rows, Oddness odd, bool crlf,
                     std::mt19937_64& rng) {
  const char* eol = crlf ? "\r\n" : "\n";
  std::string text;
  for (size_t c = 0; c < schema.size(); ++c) absl::StrAppend(&text, c ? "," : "", schema[c].name);
  text += eol;
  for (size_t r = 0; r < rows; ++r) {
    if (odd.row > 0 && rng() % odd.row == 0) {
      const int kind = static_cast<int>(rng() % 3);
      absl::StrAppend(&text, kind == 0 ? "" : kind == 1 ? "1" : "1,2,3,4,5,6,7,8,9", eol);
      continue;
    }
    for (size_t c = 0; c < schema.size(); ++c) {
      if (c) text += ',';
      text += RandomField(schema[c].type, rng, odd.value, odd.quote);
    }
    text += eol;
  }
  return text;
}

CsvFormat Format(OnError on_error, bool null_tokens) {
  CsvFormat f;
  f.delimiter = ',';
  f.quote = '"';
  f.header = true;
  f.on_error = on_error;
  const std::pair<const char*, Type> cols[] = {
      {"ts", Type::kTimestamp}, {"n", Type::kInt64}, {"d", Type::kDouble}, {"b", Type::kBool},
      {"day", Type::kDate},     {"i", Type::kInt32}, {"s", Type::kString}};  // a string last: CRLF
  for (const auto& [name, type] : cols) {
    Field field;
    field.name = name;
    field.type = type;
    f.schema.push_back(field);
    f.inferred.push_back(false);
  }
  if (null_tokens) f.null_values = {"NA", "-"};
  return f;
}

TEST(CsvBlockParser, SameAsRowParserOnRandomFiles) {
  std::mt19937_64 rng(20261204);
  // Clean files; rare bad values (most blocks clean, some redone by the row parser); rare quoted
  // fields or odd rows; dirty files (nearly every block redone).
  const Oddness kinds[] = {{0, 0, 0}, {20000, 0, 0}, {0, 30000, 0}, {0, 0, 5000}, {40, 60, 50}};
  int round = 0;
  for (const Oddness& odd : kinds) {
    for (int variant = 0; variant < 12; ++variant, ++round) {
      const OnError on_error = variant % 3 == 0   ? OnError::kReject
                               : variant % 3 == 1 ? OnError::kNull
                                                  : OnError::kFail;
      const CsvFormat format = Format(on_error, variant % 2 == 0);
      const std::string text =
          MakeText(format.schema, 6000 + rng() % 3000, odd, variant % 4 == 1, rng);
      std::vector<bool> needed(format.schema.size(), true);
      if (variant % 5 == 2) needed[1] = needed[3] = false;  // projection
      SCOPED_TRACE(absl::StrCat("round ", round, " variant ", variant));
      Result block = Parse(format, needed, text, true);
      Result rows = Parse(format, needed, text, false);
      ExpectSame(block, rows);
      if (odd.value == 0 && odd.quote == 0 && odd.row == 0) {
        ASSERT_TRUE(block.status.ok()) << block.status;
        EXPECT_GE(block.batch.num_rows, 6000u);
        EXPECT_EQ(block.stats.rows_rejected, 0);
      }
    }
  }
}

// Cases the random files rarely make: NUL bytes in otherwise regular rows, and a long row next
// to a short one (the block's field count adds up; each row's does not).
TEST(CsvBlockParser, NulBytesAndRowsThatCompensateGoToTheRowParser) {
  const CsvFormat format = Format(OnError::kReject, false);
  std::mt19937_64 rng(5);
  std::string text = MakeText(format.schema, 3000, {}, false, rng);
  const std::string clean_row = text.substr(text.find('\n', text.size() / 2) + 1);
  const std::string row = clean_row.substr(0, clean_row.find('\n') + 1);
  const std::string with_nul = row.substr(0, row.size() - 1) + std::string("\0z\n", 3);
  const std::string longer = row.substr(0, row.size() - 1) + ",extra\n";
  const std::string shorter = row.substr(0, row.rfind(',')) + "\n";
  for (const std::string& odd : {with_nul, longer + shorter, shorter + longer}) {
    std::string t = text;
    t.insert(t.find('\n', t.size() / 3) + 1, odd);
    Result block = Parse(format, {}, t, true);
    Result rows = Parse(format, {}, t, false);
    ExpectSame(block, rows);
    EXPECT_GE(block.stats.rows_rejected, 1);
  }
}

TEST(CsvBlockParser, SingleColumnBlankLinesAreSkippedNotNulls) {
  CsvFormat f = Format(OnError::kReject, false);
  f.schema.resize(1);
  f.inferred.resize(1);
  const std::string text = "ts\n2024-01-01 00:00:00\n\n2024-01-02 00:00:00\n";
  Result block = Parse(f, {}, text, true);
  Result rows = Parse(f, {}, text, false);
  ExpectSame(block, rows);
  EXPECT_EQ(block.batch.num_rows, 2u);
}

}  // namespace
}  // namespace de::engine
