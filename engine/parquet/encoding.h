// Parquet encodings (Encodings.md): RLE/bit-packing hybrid, LSB-first bit packing, and the writer's
// hash dictionaries. Decoders are bounds-checked: corrupt input is an error, never an overread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/parquet/bit_util.h"

namespace de::engine {

// Packs `n` values of `bit_width` bits (0..32) LSB first into ceil(n*bit_width/8) bytes at `out`.
void BitPack(const uint32_t* values, size_t n, int bit_width, uint8_t* out);
// Unpacks `n` values; reads ceil(n*bit_width/8) bytes from `in` (caller checks the size).
void BitUnpack(const uint8_t* in, size_t n, int bit_width, uint32_t* out);

// Appends the RLE/bit-packing hybrid encoding of `values` (no length prefix, no bit-width byte).
// Runs of 8 or more equal values become RLE runs, the rest bit-packed runs (the last one padded).
void RleHybridEncode(const uint32_t* values, size_t n, int bit_width, ByteBuffer* out);
void RleHybridEncode(const uint8_t* values, size_t n, int bit_width, ByteBuffer* out);

// Decoder of the RLE/bit-packing hybrid over [data, data+size).
class RleDecoder {
 public:
  RleDecoder() = default;
  RleDecoder(const uint8_t* data, size_t size, int bit_width) { Reset(data, size, bit_width); }
  void Reset(const uint8_t* data, size_t size, int bit_width);

  // Decodes exactly `count` values into `out`; an error if the data ends first.
  absl::Status Get(uint32_t* out, size_t count);
  absl::Status Get(uint8_t* out, size_t count);

 private:
  template <typename T>
  absl::Status GetImpl(T* out, size_t count);
  absl::Status NextRun();

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int bit_width_ = 0;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t bp_left_ = 0;          // values left in the current bit-packed run
  const uint8_t* bp_data_ = nullptr;
  size_t bp_bytes_ = 0;           // bytes available to the current bit-packed run
  uint64_t bp_pos_ = 0;           // next value index in the current bit-packed run
};

// The bytes of a string of at most 8 bytes packed into an integer (little endian, zero padded),
// without a memcpy call: overlapping 4-byte loads, or 3 single bytes for short strings.
inline uint64_t PackShortBytes(const char* p, size_t n) {
  if (n >= 4) {
    uint64_t lo = LoadLE32(p);
    uint64_t hi = LoadLE32(p + n - 4);
    return lo | (hi << ((n - 4) * 8));
  }
  if (n == 0) return 0;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint64_t>(u[0]) | (static_cast<uint64_t>(u[n / 2]) << (n / 2 * 8)) |
         (static_cast<uint64_t>(u[n - 1]) << ((n - 1) * 8));
}

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

// 64-bit hash of a byte string (our own multiply-xorshift mix; fast for short strings).
inline uint64_t HashBytes(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(n) * 0xFF51AFD7ED558CCDull);
  while (n >= 8) {
    h = (h ^ LoadLE64(p)) * 0x87C37B91114253D5ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) h = (h ^ PackShortBytes(p, n)) * 0x4CF5AD432745937Full;
  return Mix64(h);
}

// Dictionary of fixed-width keys (bit patterns of the values), assigning dense indices in
// insertion order. Keys near the first one (within kDenseSpan / 2: small integers such as
// counts, delays, distances, codes) are looked up in a direct-mapped table, one load and no
// hashing; the others in an open-addressing (linear probing) hash table.
template <typename K>
class FixedDict {
 public:
  FixedDict() { Init(1024); }

  // Returns the index of `key`, inserting it when new (*inserted = true).
  inline uint32_t FindOrInsert(K key, bool* inserted) {
    if (values_.empty()) StartDense(key);
    const K off = static_cast<K>(key - dense_base_);
    if (off < kDenseSpan) {
      uint32_t& d = dense_[off];
      *inserted = d == kEmpty;
      if (*inserted) {
        d = static_cast<uint32_t>(values_.size());
        values_.push_back(key);
      }
      return d;
    }
    size_t i = Slot(key);
    while (true) {
      uint32_t& slot = slots_[i];
      if (slot == kEmpty) {
        const uint32_t idx = static_cast<uint32_t>(values_.size());
        slot = idx;
        values_.push_back(key);
        *inserted = true;
        if (++hashed_ * 2 > slots_.size()) Rehash(slots_.size() * 2);
        return idx;
      }
      if (values_[slot] == key) {
        *inserted = false;
        return slot;
      }
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return values_.size(); }
  const std::vector<K>& values() const { return values_; }
  size_t plain_bytes() const { return values_.size() * sizeof(K); }
  void Clear() {
    for (K key : values_) {
      const K off = static_cast<K>(key - dense_base_);
      if (off < kDenseSpan) dense_[off] = kEmpty;
    }
    values_.clear();
    hashed_ = 0;
    if (slots_.size() > (1u << 16)) {
      Init(1024);
    } else {
      std::fill(slots_.begin(), slots_.end(), kEmpty);
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr K kDenseSpan = 1u << 14;  // 64 KB of table
  // The direct-mapped window is centred on the first key of the dictionary (it is empty here).
  void StartDense(K first) {
    if (dense_.empty()) dense_.assign(kDenseSpan, kEmpty);
    dense_base_ = static_cast<K>(first - kDenseSpan / 2);
  }
  size_t Slot(K key) const {
    return static_cast<size_t>((static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Init(size_t cap) {
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
    shift_ = 64 - BitWidth(cap - 1);
  }
  void Rehash(size_t cap) {
    Init(cap);
    for (uint32_t idx = 0; idx < values_.size(); ++idx) {
      const K key = values_[idx];
      if (static_cast<K>(key - dense_base_) < kDenseSpan) continue;
      size_t i = Slot(key);
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = idx;
    }
  }

  std::vector<uint32_t> dense_;  // kDenseSpan entries once used: index or kEmpty
  K dense_base_ = 0;
  // Hash slots hold indices into values_ (4 bytes each: a table of tens of thousands of keys
  // stays in the L2 cache).
  std::vector<uint32_t> slots_;
  std::vector<K> values_;
  size_t hashed_ = 0;  // keys in slots_
  size_t mask_ = 0;
  int shift_ = 0;
};

// Open-addressing dictionary of byte strings; each string is hashed once (hashes are kept for
// rehash). Strings of up to 8 bytes are compared as packed integers (no memcmp).
class StringDict {
 public:
  StringDict() { Init(1024); }

  inline uint32_t FindOrInsert(const char* p, uint32_t len, bool* inserted) {
    uint64_t key, h;
    if (len <= 8) {
      key = PackShortBytes(p, len);
      h = Mix64(key ^ (static_cast<uint64_t>(len) << 59) ^ 0x9E3779B97F4A7C15ull);
    } else {
      h = HashBytes(p, len);
      key = h;
    }
    size_t i = h & mask_;
    while (true) {
      Entry& e = slots_[i];
      if (e.index == kEmpty) {
        uint32_t idx = static_cast<uint32_t>(hashes_.size());
        e = Entry{key, len, idx};
        hashes_.push_back(h);
        keys_.push_back(key);
        bytes_.append(p, len);
        offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
        *inserted = true;
        if (hashes_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
        return idx;
      }
      if (e.key == key && e.len == len &&
          (len <= 8 || std::memcmp(bytes_.data() + offsets_[e.index], p, len) == 0)) {
        *inserted = false;
        return e.index;
      }
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return hashes_.size(); }
  std::string_view value(size_t i) const {
    return std::string_view(bytes_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  size_t plain_bytes() const { return bytes_.size() + 4 * hashes_.size(); }
  void Clear() {
    hashes_.clear();
    keys_.clear();
    bytes_.clear();
    offsets_.assign(1, 0);
    if (slots_.size() > (1u << 16)) {
      Init(1024);
    } else {
      for (Entry& e : slots_) e.index = kEmpty;
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Entry {
    uint64_t key;  // packed bytes (len <= 8) or the full hash
    uint32_t len;
    uint32_t index;
  };
  void Init(size_t cap) {
    slots_.assign(cap, Entry{0, 0, kEmpty});
    mask_ = cap - 1;
  }
  void Rehash(size_t cap) {
    Init(cap);
    for (uint32_t idx = 0; idx < hashes_.size(); ++idx) {
      size_t i = hashes_[idx] & mask_;
      while (slots_[i].index != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Entry{keys_[idx], offsets_[idx + 1] - offsets_[idx], idx};
    }
  }

  std::vector<Entry> slots_;
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> offsets_{0};
  std::string bytes_;
  size_t mask_ = 0;
};

}  // namespace de::engine
