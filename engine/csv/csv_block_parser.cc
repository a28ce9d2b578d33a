// The chunk parser's block path (csv_reader.h): most chunks are regular (no quotes, every row
// with all its fields, values that parse), and for those rows go column by column rather than
// row by row.
//
//   index ──offsets of ',' and '\n'──▶ seps_ (kBlockRows rows) ──▶ one tight loop per column
//                 │                                                    │ a bad or odd value
//                 └── a quote, a short or long row ──▶ replay ◀────────┘ (values taken back)
//
// A block is taken only when every one of its rows has exactly the schema's fields and no quote;
// its columns are then converted one after the other (the type's branch is the same all down a
// column). Anything the block path does not take (a quote, a wrong field count, a value that
// does not parse, a NUL byte) sends the block's rows back to the row parser through a
// ReplayIndex, which decides what happens to them exactly as if no block had been tried; the
// next block is tried after 1, 2, 4 ... 32 blocks' worth of rows.
#include <algorithm>
#include <string>

#include "engine/csv/csv_convert_inl.h"
#include "engine/csv/csv_reader.h"

namespace de::engine {

bool CsvChunkParser::TryBlock(const char* data, size_t* pos, bool check_utf8, Batch* batch,
                              CsvParseStats* stats, int64_t* line) {
  const size_t ncols = format_.schema.size();
  const char delim = format_.delimiter;
  seps_.clear();
  size_t rows = 0;
  bool regular = true;
  // The index's offsets a window at a time; every ncols-th one must be the end of a row.
  const uint32_t* begin;
  const uint32_t* end;
  while (regular && rows < kBlockRows && index_.Window(&begin, &end)) {
    const uint32_t* q = begin;
    size_t k = seps_.size();
    while (q < end) {
      const char c = data[*q++];
      ++k;
      if (c == '\n') {
        ++rows;
        if (k != rows * ncols) {
          regular = false;
          break;
        }
        if (rows == kBlockRows) break;
      } else if (c != delim) {  // a quote
        regular = false;
        break;
      }
    }
    seps_.insert(seps_.end(), begin, q);
    index_.Take(static_cast<size_t>(q - begin));
  }
  if (regular && rows > 0 && seps_.size() == rows * ncols) {
    const size_t mark = batch->num_rows;   // every needed column holds this many values
    for (size_t c = 0; c < ncols; ++c) {
      if (needed_[c]) sinks_[c].Reserve(rows);
    }
    if (ConvertBlock(data, *pos, rows, check_utf8)) {
      *pos = seps_.back() + 1;
      *line += static_cast<int64_t>(rows);
      stats->rows_in += static_cast<int64_t>(rows);
      stats->rows_out += static_cast<int64_t>(rows);
      batch->num_rows += rows;
      RecomputeRoom();
      return true;
    }
    for (size_t c = 0; c < ncols; ++c) {
      if (needed_[c]) sinks_[c].Truncate(mark);
    }
  }
  replay_.next = seps_.data();
  replay_.end = seps_.data() + seps_.size();
  // Irregular blocks often come in runs (a file that quotes some column): wait longer after each.
  rows_until_block_ = kBlockRows << std::min(block_failures_, 5);
  ++block_failures_;
  return false;
}

bool CsvChunkParser::ConvertBlock(const char* data, size_t row_start, size_t rows,
                                  bool check_utf8) {
  for (size_t c = 0; c < sinks_.size(); ++c) {
    if (!needed_[c]) continue;
    const bool ok = VisitType(sinks_[c].type(), [&](auto type) {
      return ConvertColumn<decltype(type)::value>(c, data, row_start, rows, check_utf8);
    });
    if (!ok) return false;
  }
  return true;
}

// One column of the block: field k of the block is [seps_[k - 1] + 1, seps_[k]), rows of ncols
// fields one after the other.
template <Type kType>
bool CsvChunkParser::ConvertColumn(size_t c, const char* data, size_t row_start, size_t rows,
                                   bool check_utf8) {
  const size_t ncols = format_.schema.size();
  const uint32_t* sep = seps_.data();
  const bool last = c + 1 == ncols;
  const bool check_nul = check_nul_;
  const bool null_tokens = has_null_values_;
  csv_internal::ColumnSink* sink = &sinks_[c];
  for (size_t r = 0, k = c; r < rows; ++r, k += ncols) {
    const size_t b = k == 0 ? row_start : sep[k - 1] + 1;
    size_t e = sep[k];
    if (last && e > b && data[e - 1] == '\r') --e;
    // What AppendValue does with an unquoted field.
    if (e == b) {
      sink->PushNull();
      continue;
    }
    const std::string_view v(data + b, e - b);
    if (check_nul && v.find('\0') != std::string_view::npos) return false;
    if (null_tokens && IsNull(v)) {
      sink->PushNull();
      continue;
    }
    if (!ConvertTyped<kType>(c, v, /*in_chunk=*/true, check_utf8, sink)) return false;
  }
  return true;
}

}  // namespace de::engine
