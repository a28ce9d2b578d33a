// The chunk parser (csv_reader.h): tokenizes whole rows and appends the needed columns' values.
#include <algorithm>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/csv/csv_reader.h"
#include "engine/csv/csv_column_sink.h"
#include "engine/csv/csv_convert_inl.h"
#include "engine/csv/csv_index.h"
#include "engine/csv/csv_tokenize.h"
#include "engine/csv/csv_values.h"

namespace de::engine {

namespace {

using namespace csv_internal;  // NOLINT

constexpr size_t kMaxRawReject = 64 << 10;

}  // namespace

void InitBatch(const Schema& schema, Batch* batch) {
  batch->columns.clear();
  batch->columns.resize(schema.size());
  for (size_t c = 0; c < schema.size(); ++c) batch->columns[c].type = schema[c].type;
  batch->num_rows = 0;
}

void ClearBatch(Batch* batch) {
  for (Column& c : batch->columns) c.Clear();
  batch->num_rows = 0;
}

CsvChunkParser::CsvChunkParser(const CsvFormat& format, std::vector<bool> needed)
    : format_(format) {
  needed.resize(format.schema.size(), needed.empty());
  needed_.assign(needed.begin(), needed.end());
  sinks_.resize(format.schema.size());
  has_null_values_ = !format.null_values.empty();
}

bool CsvChunkParser::ParseTimestampCached(std::string_view v, int64_t* micros) {
  // Rows are often in time order: consecutive timestamps share their date.
  if (v.size() < 10) return false;
  if (!has_last_date_ || std::memcmp(v.data(), last_date_, 10) != 0) {
    if (!ParseCsvTimestampDate(v, &last_days_)) return false;
    std::memcpy(last_date_, v.data(), 10);
    has_last_date_ = true;
  }
  return ParseCsvTimestampTime(v, last_days_, micros);
}

std::string CsvChunkParser::MalformedReason(size_t col) const {
  return absl::StrCat("malformed quoted field in column '", format_.schema[col].name,
                      "' (a quote inside an unquoted field or text after a closing quote)");
}

std::string CsvChunkParser::BadValueReason(size_t col, std::string_view v) const {
  const Type type = format_.schema[col].type;
  if (type == Type::kString) {
    return absl::StrCat("invalid UTF-8 in column '", format_.schema[col].name, "'");
  }
  const std::string shown(v.substr(0, 64));
  return absl::StrCat("column '", format_.schema[col].name, "': '", shown, "' is not ",
                      type == Type::kInt32 || type == Type::kInt64 ? "an " : "a ", TypeName(type),
                      format_.inferred[col] ? " (type inferred from a sample; set schema: "
                                              "or sample_rows: to change it)"
                                            : "");
}

bool CsvChunkParser::IsNull(std::string_view v) const {
  for (const std::string& n : format_.null_values) {
    if (n == v) return true;
  }
  return false;
}

void CsvChunkParser::BeginSinks(Batch* batch) {
  room_ = SIZE_MAX;
  for (size_t c = 0; c < sinks_.size(); ++c) {
    if (!needed_[c]) continue;
    sinks_[c].Begin(&batch->columns[c]);
    room_ = std::min(room_, sinks_[c].room());
  }
}

void CsvChunkParser::GrowSinks() {
  for (size_t c = 0; c < sinks_.size(); ++c) {
    if (needed_[c] && sinks_[c].room() == 0) sinks_[c].Grow();
  }
  RecomputeRoom();
}

void CsvChunkParser::RecomputeRoom() {
  room_ = SIZE_MAX;
  for (size_t c = 0; c < sinks_.size(); ++c) {
    if (needed_[c]) room_ = std::min(room_, sinks_[c].room());
  }
}

void CsvChunkParser::FinishSinks() {
  for (size_t c = 0; c < sinks_.size(); ++c) {
    if (needed_[c]) sinks_[c].Finish();
  }
}

CsvChunkParser::ValueResult CsvChunkParser::AppendValue(size_t col, const char* base,
                                                        const FieldRef& f, bool check_utf8,
                                                        ColumnSink* sink, std::string* reason) {
  std::string_view v(base + f.begin, f.end - f.begin);
  bool quoted = false;
  if (f.has_quote) {
    if (!UnescapeQuoted(v, format_.quote, &scratch_)) {
      *reason = MalformedReason(col);
      return ValueResult::kMalformed;
    }
    v = scratch_;
    quoted = true;
  }
  if (check_nul_ && v.find('\0') != std::string_view::npos) {
    *reason = absl::StrCat("NUL byte in column '", format_.schema[col].name, "'");
    return ValueResult::kBad;
  }
  if (v.empty()) {
    if (sink->type() == Type::kString && quoted) {
      sink->PushString(v.data(), 0, v.data());
    } else {
      sink->PushNull();
    }
    return ValueResult::kOk;
  }
  if (has_null_values_ && IsNull(v)) {
    sink->PushNull();
    return ValueResult::kOk;
  }
  return ConvertValue(col, v, /*in_chunk=*/!quoted, check_utf8, sink, reason);
}

// Inlined into Parse: it runs once per row.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool CsvChunkParser::AppendRow(const char* data, bool plain,
                                                                   bool check_utf8,
                                                                   CsvParseStats* stats,
                                                                   size_t* appended,
                                                                   std::string* reason) {
  const size_t ncols = format_.schema.size();
  const size_t nfields = fields_.size();
  size_t c = 0;
  // On a bad field: the columns before it got a value (Parse takes them back).
  auto fail = [&] {
    *appended = c;
    return false;
  };
  for (; c < ncols; ++c) {
    ColumnSink* sink = &sinks_[c];
    if (!needed_[c]) {
      // A skipped column: no conversion and no copy, only the row's quoting is checked.
      if (c < nfields && fields_[c].has_quote &&
          !QuotedWellFormed(
              std::string_view(data + fields_[c].begin, fields_[c].end - fields_[c].begin),
              format_.quote)) {
        *reason = MalformedReason(c);
        return fail();
      }
      continue;
    }
    if (c >= nfields) {
      sink->PushNull();
      ++stats->values_nulled;
      continue;
    }
    const FieldRef& f = fields_[c];
    // No null tokens, no NUL byte, no quote: a non-empty field is its value as it stands.
    ValueResult r = plain && !f.has_quote && f.end > f.begin
                        ? ConvertValue(c, std::string_view(data + f.begin, f.end - f.begin),
                                       /*in_chunk=*/true, check_utf8, sink, reason)
                        : AppendValue(c, data, f, check_utf8, sink, reason);
    if (r == ValueResult::kOk) continue;
    if (r == ValueResult::kBad && format_.on_error == OnError::kNull) {
      sink->PushNull();
      ++stats->values_nulled;
      reason->clear();
      continue;
    }
    return fail();
  }
  return true;
}

namespace {

// True when data[0, size) has a byte >= 0x80 (strings then need UTF-8 validation).
bool HasNonAscii(const char* data, size_t size) {
  const char* q = data;
  const char* end = data + size;
  uint64_t acc = 0;
  for (; q + 8 <= end; q += 8) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    acc |= w;
  }
  for (; q < end; ++q) acc |= static_cast<uint8_t>(*q);
  return (acc & 0x8080808080808080ull) != 0;
}

}  // namespace

absl::Status CsvChunkParser::Parse(const char* data, size_t size, int64_t first_line,
                                   bool skip_header, const std::string& source, Batch* batch,
                                   CsvParseStats* stats, std::vector<CsvReject>* rejects) {
  if (size == 0) return absl::OkStatus();
  std::string copy;
  if (data[size - 1] != '\n') {
    copy.assign(data, size);
    copy.push_back('\n');
    data = copy.data();
    size = copy.size();
  }
  if (size > UINT32_MAX) return absl::InvalidArgumentError("CSV chunk larger than 4 GB");
  const char* p = data;
  const char* end = data + size;
  const size_t ncols = format_.schema.size();
  const bool check_utf8 = HasNonAscii(data, size);
  // Values need a NUL check only when the chunk has a NUL byte (rare; memchr is fast).
  check_nul_ = std::memchr(data, 0, size) != nullptr;
  const bool plain = !has_null_values_ && !check_nul_;
  int64_t line = first_line;
  std::string reason;
  bool first = true;
  index_.Reset(data, size, format_.delimiter, format_.quote);
  replay_ = ReplayIndex{nullptr, nullptr, &index_};
  // With one column a blank line would look like a row of one empty field; the row parser
  // skips it, so such files stay with the row parser.
  const bool block_path = block_path_enabled_ && ncols > 1;
  rows_until_block_ = 0;
  block_failures_ = 0;
  chunk_begin_ = data;
  chunk_end_ = end;
  BeginSinks(batch);
  while (p < end) {
    // After the first row (maybe a header): regular blocks of rows go column by column.
    if (!replay_.replaying()) {
      if (!first && block_path && rows_until_block_ == 0) {
        size_t pos = static_cast<size_t>(p - data);
        if (TryBlock(data, &pos, check_utf8, batch, stats, &line)) {
          p = data + pos;
          continue;
        }
      } else if (rows_until_block_ > 0) {
        --rows_until_block_;
      }
    }
    const char* row_start = p;
    const int64_t row_line = line;
    bool unterminated = false;
    p = data + TokenizeIndexedRow(static_cast<size_t>(p - data), data, size, &replay_,
                                  format_.delimiter, format_.quote, &fields_, &line,
                                  &unterminated);
    if (first) {
      first = false;
      if (skip_header) continue;
    }

    if (fields_.size() == 1 && fields_[0].begin == fields_[0].end && !fields_[0].has_quote) {
      continue;  // blank line
    }
    ++stats->rows_in;
    if (room_ == 0) GrowSinks();  // a row appends at most one value per column
    --room_;
    reason.clear();
    size_t appended = 0;
    const size_t nfields = fields_.size();
    if (unterminated) {
      reason = "unterminated quoted field (it runs to the end of the file)";
    } else if (nfields != ncols && !(nfields < ncols && format_.on_error == OnError::kNull)) {
      reason = absl::StrCat("expected ", ncols, " fields, found ", nfields);
    } else if (AppendRow(data, plain, check_utf8, stats, &appended, &reason)) {
      ++batch->num_rows;
      ++stats->rows_out;
      continue;
    }
    for (size_t c = 0; c < appended; ++c) {
      if (needed_[c]) sinks_[c].Truncate(sinks_[c].size() - 1);
    }
    if (format_.on_error == OnError::kFail) {
      FinishSinks();
      return absl::InvalidArgumentError(absl::StrCat(source, ":", row_line, ": ", reason));
    }
    ++stats->rows_rejected;
    const char* row_end = p;
    while (row_end > row_start && (row_end[-1] == '\n' || row_end[-1] == '\r')) --row_end;
    CsvReject rej;
    rej.line = row_line;
    rej.reason = std::move(reason);
    rej.raw.assign(row_start, std::min<size_t>(row_end - row_start, kMaxRawReject));
    rejects->push_back(std::move(rej));
    reason = std::string();
  }
  FinishSinks();
  return absl::OkStatus();
}

}  // namespace de::engine
