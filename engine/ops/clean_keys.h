// Row keys for `dedupe` and the `unique` check: a 128-bit hash of the key columns of a row, and
// a thread-safe set (or first/last-position map) of such hashes.
//
// Memory is bounded by the number of distinct keys, not their size: each distinct key costs one
// 16-byte hash (plus an 8-byte position for KeyPositions) in a flat hash table, about 32 (resp.
// 40) bytes per key with the table's spare slots. Two different keys are taken as equal only when
// all 128 bits of their hashes collide: for n distinct keys the probability of any collision is
// about n^2 / 2^129 (1e9 keys: ~1.5e-21). The hash is two independent 64-bit multiply-mix hashes
// of the key's typed values (type, null flag, bytes), so "1" (string) and 1 (int) differ.
//
// Thread safety: HashKeys is pure. KeySet and KeyPositions are sharded by hash bits, one mutex
// per shard; all methods may be called from many threads at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"

namespace de::engine {

struct Key128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Key128& o) const { return lo == o.lo && hi == o.hi; }
  template <typename H>
  friend H AbslHashValue(H h, const Key128& k) {
    return H::combine(std::move(h), k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull));
  }
};

// Hashes the key columns `cols` of the rows in `sel` into `out` (one per selected row, in
// selection order). `any_null` (optional) gets 1 where one of the key values is null.
void HashKeys(const Batch& batch, const std::vector<int>& cols, const Selection& sel,
              std::vector<Key128>* out, std::vector<uint8_t>* any_null = nullptr);

class KeySet {
 public:
  // True when `k` was not in the set (and now is).
  bool Insert(const Key128& k);
  int64_t size() const;

 private:
  static constexpr int kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_set<Key128> set;
  };
  Shard shards_[kShards];
};

// For keep: first/last over several threads: each key's smallest (or largest) input position.
class KeyPositions {
 public:
  explicit KeyPositions(bool keep_last) : keep_last_(keep_last) {}
  // Records that key `k` occurs at `pos`.
  void Offer(const Key128& k, uint64_t pos);
  // True when `pos` is the kept occurrence of `k` (after every Offer).
  bool IsKept(const Key128& k, uint64_t pos) const;
  int64_t size() const;

 private:
  static constexpr int kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<Key128, uint64_t> map;
  };
  const bool keep_last_;
  Shard shards_[kShards];
};

}  // namespace de::engine
