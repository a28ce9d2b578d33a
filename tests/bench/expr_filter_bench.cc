// Expression filter throughput on flights-shaped rows: 1M rows in 128K-row batches (origin from
// 350 airports incl. JFK and LAX, distance 50..3000 with ~5% nulls, delay double with ~5% nulls).
// Reports rows/s for the fast paths (column vs literal, in, like) and for the general vector path.
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/ops/expr.h"

namespace de::engine {
namespace {

constexpr size_t kRows = 1'000'000;
constexpr size_t kBatchRows = 128 * 1024;

struct Data {
  Schema schema = {{"origin", Type::kString}, {"distance", Type::kInt64}, {"delay", Type::kDouble}};
  std::vector<Batch> batches;
};

const Data& GetData() {
  static const Data* data = [] {
    auto* d = new Data();
    std::mt19937_64 rng(7);
    std::vector<std::string> airports = {"JFK", "LAX"};
    for (int i = 0; airports.size() < 350; ++i) {
      airports.push_back(std::string{char('A' + i % 26), char('A' + (i / 26) % 26),
                                     char('A' + (i * 7) % 26)});
    }
    for (size_t start = 0; start < kRows; start += kBatchRows) {
      size_t n = std::min(kBatchRows, kRows - start);
      Batch b;
      b.num_rows = n;
      b.columns.resize(3);
      b.columns[0].type = Type::kString;
      b.columns[1].type = Type::kInt64;
      b.columns[2].type = Type::kDouble;
      for (size_t r = 0; r < n; ++r) {
        Column& o = b.columns[0];
        o.bytes += airports[rng() % 40 == 0 ? rng() % 2 : rng() % airports.size()];
        o.offsets.push_back(static_cast<uint32_t>(o.bytes.size()));
        o.valid.push_back(1);
        bool dn = rng() % 20 == 0, yn = rng() % 20 == 0;
        b.columns[1].valid.push_back(!dn);
        b.columns[1].i64.push_back(dn ? 0 : 50 + static_cast<int64_t>(rng() % 2950));
        b.columns[2].valid.push_back(!yn);
        b.columns[2].f64.push_back(yn ? 0 : static_cast<double>(rng() % 200) - 30.0);
      }
      d->batches.push_back(std::move(b));
    }
    return d;
  }();
  return *data;
}

void RunFilter(benchmark::State& state, const char* text) {
  const Data& d = GetData();
  auto bound = CompilePredicate(text, d.schema);
  if (!bound.ok()) {
    state.SkipWithError(std::string(bound.status().message()).c_str());
    return;
  }
  size_t kept = 0;
  for (auto _ : state) {
    kept = 0;
    for (const Batch& b : d.batches) {
      Selection sel = Selection::All(b.num_rows);
      if (!(*bound)->Filter(b, &sel).ok()) state.SkipWithError("filter failed");
      kept += sel.size();
    }
    benchmark::DoNotOptimize(kept);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.counters["kept"] = static_cast<double>(kept);
}

void BM_DistanceAndOriginIn(benchmark::State& s) {
  RunFilter(s, "distance > 500 and origin in ('JFK', 'LAX')");
}
void BM_OriginInAndDistance(benchmark::State& s) {
  RunFilter(s, "origin in ('JFK', 'LAX') and distance > 500");
}
void BM_DistanceGreater(benchmark::State& s) { RunFilter(s, "distance > 500"); }
void BM_DelayBetween(benchmark::State& s) { RunFilter(s, "delay between -5 and 5"); }
void BM_OriginLikeInfix(benchmark::State& s) { RunFilter(s, "origin like '%A%'"); }
void BM_OriginEq(benchmark::State& s) { RunFilter(s, "origin = 'JFK'"); }
void BM_OrOfComparisons(benchmark::State& s) { RunFilter(s, "delay > 60 or distance < 200"); }
void BM_Arithmetic(benchmark::State& s) { RunFilter(s, "delay * 60 / distance > 0.5"); }

BENCHMARK(BM_DistanceAndOriginIn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OriginInAndDistance)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DistanceGreater)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DelayBetween)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OriginLikeInfix)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OriginEq)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OrOfComparisons)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Arithmetic)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace de::engine

BENCHMARK_MAIN();
