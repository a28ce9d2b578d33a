#include "engine/csv/csv_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/csv/csv_tokenize.h"

namespace de::engine {

using csv_internal::CountNewlines;
using csv_internal::LastRowBoundary;

// ---------------------------------------------------------------------------------------------
// Splitter.

CsvSplitter::CsvSplitter(InputStream* in, char quote, size_t chunk_bytes, size_t max_row_bytes)
    : in_(in),
      quote_(quote),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 64)),
      max_row_bytes_(std::max(max_row_bytes, chunk_bytes_)) {}

absl::StatusOr<bool> CsvSplitter::Next(CsvChunk* chunk) {
  if (eof_ && carry_.empty()) return false;
  size_t target = std::max(chunk_bytes_, carry_.size() + chunk_bytes_ / 2);
  auto ensure = [&](size_t cap, size_t keep) {
    if (chunk->capacity >= cap + 1) return;
    std::unique_ptr<char[]> bigger(new char[cap + 1]);
    if (keep > 0) std::memcpy(bigger.get(), chunk->data.get(), keep);
    chunk->data = std::move(bigger);
    chunk->capacity = cap + 1;
  };
  ensure(target, 0);
  char* data = chunk->data.get();
  size_t size = carry_.size();
  std::memcpy(data, carry_.data(), size);
  carry_.clear();
  chunk->first_line = line_;
  chunk->file_start = !started_;
  int64_t chunk_lines = -1;  // newlines in the chunk, when LastRowBoundary counted them
  while (true) {
    while (size < target && !eof_) {
      DE_ASSIGN_OR_RETURN(size_t n, in_->Read(data + size, target - size));
      if (n == 0) eof_ = true;
      size += n;
    }
    if (!started_) {
      started_ = true;
      if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        std::memmove(data, data + 3, size - 3);
        size -= 3;
        continue;  // refill the three bytes
      }
    }
    if (eof_) {
      if (size == 0) return false;
      chunk_lines = -1;
      if (data[size - 1] != '\n') data[size++] = '\n';  // capacity keeps one spare byte
      break;
    }
    size_t b = LastRowBoundary(data, size, quote_, &chunk_lines);
    if (b > 0) {
      carry_.assign(data + b, size - b);
      size = b;
      break;
    }
    // One row longer than the buffer: grow, up to the row limit.
    if (target >= max_row_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat(
          in_->path(), ":", line_, ": a row longer than ", max_row_bytes_ >> 20,
          " MB (an unbalanced quote?)"));
    }
    target = std::min(target * 2, max_row_bytes_);
    ensure(target, size);
    data = chunk->data.get();
  }
  chunk->size = size;
  line_ += chunk_lines >= 0 ? chunk_lines : CountNewlines(data, data + size);
  return true;
}

void AppendCsvField(std::string_view s, std::string* out) {
  bool needs = s.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!needs) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::StatusOr<CsvTable> ReadCsvText(std::string_view text, const CsvReadOptions& options,
                                     const std::string& source) {
  CsvTable t;
  // Sniff the first sample_bytes, as the file readers do (ReadCsvSample).
  const size_t sample = options.sample_bytes > 0 ? static_cast<size_t>(options.sample_bytes) : text.size();
  DE_ASSIGN_OR_RETURN(t.format, SniffCsv(text.substr(0, sample), text.size() <= sample, options, source));
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  InitBatch(t.format.schema, &t.batch);
  if (t.format.schema.empty()) return t;
  CsvChunkParser parser(t.format);
  DE_RETURN_IF_ERROR(parser.Parse(text.data(), text.size(), 1, t.format.header, source, &t.batch,
                                  &t.stats, &t.rejects));
  return t;
}

}  // namespace de::engine
