#include "engine/ops/clean_keys.h"

#include <cstring>

namespace de::engine {

namespace {

constexpr uint64_t kSeedLo = 0x243F6A8885A308D3ull;
constexpr uint64_t kSeedHi = 0x13198A2E03707344ull;

inline uint64_t Mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a ^ 0xA0761D6478BD642Full) *
                  (b ^ 0xE7037ED1A0B428DBull);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Folds one 64-bit word into both halves (independent constants).
inline void Add(Key128* k, uint64_t w) {
  k->lo = Mix(k->lo ^ w, 0x8EBC6AF09C88C6E3ull);
  k->hi = Mix(k->hi + w, 0x589965CC75374CC3ull);
}

inline void AddBytes(Key128* k, const char* p, size_t n) {
  Add(k, n);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    Add(k, w);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    Add(k, w);
  }
}

}  // namespace

void HashKeys(const Batch& batch, const std::vector<int>& cols, const Selection& sel,
              std::vector<Key128>* out, std::vector<uint8_t>* any_null) {
  const size_t n = sel.size();
  out->assign(n, Key128{kSeedLo, kSeedHi});
  if (any_null) any_null->assign(n, 0);
  for (int ci : cols) {
    const Column& c = batch.columns[ci];
    const uint64_t tag = static_cast<uint64_t>(c.type) + 1;
    for (size_t i = 0; i < n; ++i) {
      const uint32_t r = sel[i];
      Key128* k = &(*out)[i];
      if (!c.valid[r]) {
        Add(k, 0xFFFF0000ull | tag);
        if (any_null) (*any_null)[i] = 1;
        continue;
      }
      Add(k, tag);
      switch (c.type) {
        case Type::kBool: Add(k, c.u8[r]); break;
        case Type::kInt32: case Type::kDate: Add(k, static_cast<uint64_t>(c.i32[r])); break;
        case Type::kInt64: case Type::kTimestamp: case Type::kDecimal:
          Add(k, static_cast<uint64_t>(c.i64[r]));
          break;
        case Type::kDouble: {
          double d = c.f64[r] == 0 ? 0.0 : c.f64[r];  // -0 == 0
          uint64_t w;
          std::memcpy(&w, &d, 8);
          Add(k, w);
          break;
        }
        case Type::kString: {
          std::string_view s = c.str(r);
          AddBytes(k, s.data(), s.size());
          break;
        }
      }
    }
  }
}

bool KeySet::Insert(const Key128& k) {
  Shard& s = shards_[k.hi % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  return s.set.insert(k).second;
}

int64_t KeySet::size() const {
  int64_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += static_cast<int64_t>(s.set.size());
  }
  return n;
}

void KeyPositions::Offer(const Key128& k, uint64_t pos) {
  Shard& s = shards_[k.hi % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  auto [it, inserted] = s.map.try_emplace(k, pos);
  if (!inserted && (keep_last_ ? pos > it->second : pos < it->second)) it->second = pos;
}

bool KeyPositions::IsKept(const Key128& k, uint64_t pos) const {
  const Shard& s = shards_[k.hi % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(k);
  return it != s.map.end() && it->second == pos;
}

int64_t KeyPositions::size() const {
  int64_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += static_cast<int64_t>(s.map.size());
  }
  return n;
}

}  // namespace de::engine
