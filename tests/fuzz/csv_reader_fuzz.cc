// libFuzzer target for the CSV reader: input decoding (plain/gzip/zstd by magic bytes), sniffing
// (delimiter, header, types), splitting into chunks and parsing into batches. The first byte picks
// options; the rest is the file. Checks the batch invariants the Parquet writer relies on, and
// that the block path (csv_block_parser.cc) gives what the row parser alone gives.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/csv/csv_reader.h"
#include "engine/io/input_stream.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckBatch(const de::engine::Batch& b, const de::engine::Schema& schema) {
  Check(b.columns.size() == schema.size());
  for (const auto& c : b.columns) {
    Check(c.valid.size() == b.num_rows);
    switch (c.type) {
      case de::engine::Type::kBool: Check(c.u8.size() == b.num_rows); break;
      case de::engine::Type::kInt32:
      case de::engine::Type::kDate: Check(c.i32.size() == b.num_rows); break;
      case de::engine::Type::kInt64:
      case de::engine::Type::kTimestamp: Check(c.i64.size() == b.num_rows); break;
      case de::engine::Type::kDouble: Check(c.f64.size() == b.num_rows); break;
      case de::engine::Type::kString:
        Check(c.offsets.size() == b.num_rows + 1);
        for (size_t i = 0; i + 1 < c.offsets.size(); ++i) Check(c.offsets[i] <= c.offsets[i + 1]);
        Check(c.offsets.back() == c.bytes.size());
        break;
    }
  }
}

bool SameColumn(const de::engine::Column& a, const de::engine::Column& b) {
  return a.valid == b.valid && a.u8 == b.u8 && a.i32 == b.i32 && a.i64 == b.i64 &&
         a.offsets == b.offsets && a.bytes == b.bytes &&
         a.f64.size() == b.f64.size() &&
         std::equal(a.f64.begin(), a.f64.end(), b.f64.begin(), [](double x, double y) {
           return x == y || (x != x && y != y);  // NaN equals NaN here
         });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t opt = data[0];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  de::engine::CsvReadOptions o;
  static constexpr char kDelims[] = {0, ',', ';', '\t'};
  o.delimiter = kDelims[opt & 3];
  o.quote = (opt & 4) ? '"' : ((opt & 8) ? '\'' : 0);
  if (opt & 16) o.header = (opt & 32) != 0;
  o.on_error = (opt & 64) ? de::engine::OnError::kNull : de::engine::OnError::kReject;
  o.null_values = {"NA"};
  o.sample_rows = 50;
  if (opt & 128) o.schema = {{"column0", de::engine::Type::kInt32}};
  const size_t chunk_bytes = 64 + (size % 200);

  auto in = de::engine::NewMemoryInputStream(text, "fuzz.csv");
  bool whole = false;
  auto sample = de::engine::ReadCsvSample(in.get(), 4096, &whole);
  if (!sample.ok()) return 0;
  auto fmt = de::engine::SniffCsv(*sample, whole, o, "fuzz.csv");
  if (!fmt.ok() || fmt->schema.empty()) return 0;

  auto in2 = de::engine::NewMemoryInputStream(text, "fuzz.csv");
  de::engine::CsvSplitter splitter(in2.get(), fmt->quote, chunk_bytes, 1 << 16);
  de::engine::CsvChunkParser parser(*fmt);
  de::engine::CsvChunkParser row_parser(*fmt);
  row_parser.set_block_path_for_testing(false);
  de::engine::Batch batch, row_batch;
  de::engine::InitBatch(fmt->schema, &batch);
  de::engine::InitBatch(fmt->schema, &row_batch);
  de::engine::CsvParseStats stats, row_stats;
  std::vector<de::engine::CsvReject> rejects, row_rejects;
  de::engine::CsvChunk chunk;
  int64_t last_line = 0;
  while (true) {
    auto more = splitter.Next(&chunk);
    if (!more.ok() || !*more) break;
    Check(chunk.size > 0 && chunk.data[chunk.size - 1] == '\n');
    Check(chunk.first_line > last_line);
    last_line = chunk.first_line;
    de::engine::ClearBatch(&batch);
    de::engine::ClearBatch(&row_batch);
    auto st = parser.Parse(chunk.data.get(), chunk.size, chunk.first_line,
                           fmt->header && chunk.file_start, "fuzz.csv", &batch, &stats, &rejects);
    auto row_st = row_parser.Parse(chunk.data.get(), chunk.size, chunk.first_line,
                                   fmt->header && chunk.file_start, "fuzz.csv", &row_batch,
                                   &row_stats, &row_rejects);
    Check(st.ToString() == row_st.ToString());
    if (!st.ok()) break;
    CheckBatch(batch, fmt->schema);
    Check(batch.num_rows == row_batch.num_rows);
    for (size_t c = 0; c < batch.columns.size(); ++c) {
      Check(SameColumn(batch.columns[c], row_batch.columns[c]));
    }
  }
  Check(stats.rows_in == stats.rows_out + stats.rows_rejected);
  Check(stats.rows_in == row_stats.rows_in && stats.rows_rejected == row_stats.rows_rejected &&
        stats.values_nulled == row_stats.values_nulled);
  Check(rejects.size() == row_rejects.size());
  for (size_t i = 0; i < rejects.size(); ++i) {
    Check(rejects[i].line == row_rejects[i].line && rejects[i].reason == row_rejects[i].reason &&
          rejects[i].raw == row_rejects[i].raw);
  }
  for (const auto& r : rejects) Check(r.line >= 1 && !r.reason.empty());
  return 0;
}
