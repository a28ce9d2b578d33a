// Parquet writer (and reader) throughput on flights-shaped rows (date, delay, distance, origin, dest;
// ~5% null delays), 3M rows in 128K-row batches; reports rows/s and MB/s of the same rows as CSV text.
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/parquet/parquet_reader.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {
namespace {

constexpr size_t kRows = 3'000'000;
constexpr size_t kBatchRows = 128 * 1024;

struct Data {
  Schema schema = {{"flight_date", Type::kDate, false},
                   {"delay", Type::kInt32, true},
                   {"distance", Type::kInt32, false},
                   {"origin", Type::kString, false},
                   {"dest", Type::kString, false}};
  std::vector<Batch> batches;
  int64_t csv_bytes = 0;  // size of the same rows as CSV text
};

const Data& GetData() {
  static const Data* data = [] {
    auto* d = new Data();
    std::mt19937_64 rng(2024);
    std::vector<std::string> airports;
    for (int i = 0; i < 350; ++i) {
      airports.push_back(std::string{char('A' + i % 26), char('A' + (i / 26) % 26), char('A' + (i * 7) % 26)});
    }
    for (size_t start = 0; start < kRows; start += kBatchRows) {
      size_t n = std::min(kBatchRows, kRows - start);
      Batch b;
      b.num_rows = n;
      b.columns.resize(5);
      for (int c = 0; c < 5; ++c) b.columns[c].type = d->schema[c].type;
      for (size_t r = 0; r < n; ++r) {
        int32_t date = 19000 + static_cast<int32_t>((start + r) / 8300);  // ~1 year, in order
        bool has_delay = rng() % 20 != 0;
        int32_t delay = static_cast<int32_t>(rng() % 200) - 30;
        int32_t distance = 100 + static_cast<int32_t>(rng() % 2500);
        const std::string& o = airports[rng() % airports.size()];
        const std::string& de = airports[rng() % airports.size()];
        b.columns[0].valid.push_back(1);
        b.columns[0].i32.push_back(date);
        b.columns[1].valid.push_back(has_delay);
        b.columns[1].i32.push_back(has_delay ? delay : 0);
        b.columns[2].valid.push_back(1);
        b.columns[2].i32.push_back(distance);
        for (int c : {3, 4}) {
          Column& col = b.columns[c];
          col.valid.push_back(1);
          col.bytes += c == 3 ? o : de;
          col.offsets.push_back(static_cast<uint32_t>(col.bytes.size()));
        }
        d->csv_bytes += 10 + 1 + (has_delay ? std::to_string(delay).size() : 0) + 1 +
                        std::to_string(distance).size() + 1 + 3 + 1 + 3 + 1;
      }
      d->batches.push_back(std::move(b));
    }
    return d;
  }();
  return *data;
}

void BM_WriteFlights(benchmark::State& state) {
  const Data& data = GetData();
  ParquetWriterOptions opts;
  opts.codec = static_cast<Codec>(state.range(0));
  opts.threads = static_cast<int>(state.range(1));
  std::string path = "/tmp/parquet_writer_bench_" + std::to_string(::getpid()) + ".parquet";
  int64_t file_bytes = 0;
  for (auto _ : state) {
    auto w = ParquetWriter::Open(path, data.schema, opts);
    if (!w.ok()) {
      state.SkipWithError(std::string(w.status().message()).c_str());
      return;
    }
    for (const Batch& b : data.batches) {
      if (auto s = (*w)->Write(b); !s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
    file_bytes = (*w)->EstimatedFileBytes();
    if (auto s = (*w)->Close(); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  std::remove(path.c_str());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * data.csv_bytes);
  state.counters["file_MB"] = static_cast<double>(file_bytes) / 1e6;
  state.SetLabel(CodecName(opts.codec));
}

BENCHMARK(BM_WriteFlights)
    ->ArgNames({"codec", "threads"})
    ->Args({static_cast<int>(Codec::kSnappy), 1})
    ->Args({static_cast<int>(Codec::kSnappy), 2})
    ->Args({static_cast<int>(Codec::kZstd), 1})
    ->Args({static_cast<int>(Codec::kNone), 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Reading the same rows back (one thread), for comparison with the writer.
void BM_ReadFlights(benchmark::State& state) {
  const Data& data = GetData();
  std::string path = "/tmp/parquet_reader_bench_" + std::to_string(::getpid()) + ".parquet";
  {
    auto w = ParquetWriter::Open(path, data.schema, ParquetWriterOptions{});
    for (const Batch& b : data.batches) (void)(*w)->Write(b);
    (void)(*w)->Close();
  }
  for (auto _ : state) {
    auto r = ParquetReader::Open(path);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    for (int g = 0; g < (*r)->num_row_groups(); ++g) {
      auto b = (*r)->ReadRowGroup(g);
      if (!b.ok()) {
        state.SkipWithError(std::string(b.status().message()).c_str());
        return;
      }
      benchmark::DoNotOptimize(b->num_rows);
    }
  }
  std::remove(path.c_str());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * data.csv_bytes);
}

BENCHMARK(BM_ReadFlights)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace de::engine

BENCHMARK_MAIN();
