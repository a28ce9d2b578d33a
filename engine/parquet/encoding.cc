#include "engine/parquet/encoding.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace de::engine {

void BitPack(const uint32_t* values, size_t n, int w, uint8_t* out) {
  if (w == 0) return;
  const uint64_t mask = w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= (values[i] & mask) << bits;
    bits += w;
    if (bits >= 32) {
      StoreLE32(out, static_cast<uint32_t>(acc));
      out += 4;
      acc >>= 32;
      bits -= 32;
    }
  }
  while (bits > 0) {
    *out++ = static_cast<uint8_t>(acc);
    acc >>= 8;
    bits -= 8;
  }
}

namespace {

// Reads the value with index `k` (bit offset k*w) from `in` holding `in_bytes` bytes; missing
// bytes read as zero.
inline uint32_t UnpackOne(const uint8_t* in, size_t in_bytes, uint64_t k, int w) {
  uint64_t bit = k * static_cast<uint64_t>(w);
  size_t byte = bit >> 3;
  uint64_t word = 0;
  if (byte + 8 <= in_bytes) {
    word = LoadLE64(in + byte);
  } else if (byte < in_bytes) {
    std::memcpy(&word, in + byte, in_bytes - byte);
  }
  uint64_t mask = w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
  return static_cast<uint32_t>((word >> (bit & 7)) & mask);
}

// Values first..first+k-1 into out: one unaligned 8-byte load per value while 8 bytes remain
// (w <= 32 so a value never spans more than 5 bytes), the bounds-checked load for the tail.
// Whole groups of 8 values of W bits (a group is W bytes): constant shifts, one load each.
// Needs 8 readable bytes at the last value's byte of every group.
template <int W, typename T>
void UnpackGroups(const uint8_t* in, size_t groups, T* out) {
  constexpr uint64_t kMask = W == 32 ? 0xFFFFFFFFull : ((1ull << W) - 1);
  for (size_t g = 0; g < groups; ++g, in += W, out += 8) {
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      out[k] = static_cast<T>((LoadLE64(in + (k * W) / 8) >> ((k * W) % 8)) & kMask);
    }
  }
}

template <typename T>
using GroupUnpacker = void (*)(const uint8_t*, size_t, T*);

template <typename T, int... Ws>
constexpr auto MakeUnpackers(std::integer_sequence<int, Ws...>) {
  return std::array<GroupUnpacker<T>, sizeof...(Ws)>{&UnpackGroups<Ws + 1, T>...};
}

template <typename T>
inline void UnpackRange(const uint8_t* in, size_t in_bytes, uint64_t first, size_t k, int w, T* out);

// Like UnpackRange, using the group unpackers for the aligned middle.
template <typename T>
inline void UnpackFast(const uint8_t* in, size_t in_bytes, uint64_t first, size_t k, int w, T* out) {
  static constexpr auto kUnpackers = MakeUnpackers<T>(std::make_integer_sequence<int, 32>());
  if (first % 8 != 0 || k < 16 || in_bytes < 16) {
    UnpackRange(in, in_bytes, first, k, w, out);
    return;
  }
  // Group g is safe when its last load (byte g*w + 7w/8, 8 bytes) stays inside in_bytes.
  const size_t first_group = first / 8;
  const size_t last_byte_room = static_cast<size_t>(w) * 7 / 8 + 8;
  size_t safe_groups = in_bytes >= last_byte_room ? (in_bytes - last_byte_room) / w + 1 : 0;
  safe_groups = safe_groups > first_group ? safe_groups - first_group : 0;
  const size_t groups = std::min(safe_groups, k / 8);
  kUnpackers[w - 1](in + first_group * w, groups, out);
  UnpackRange(in, in_bytes, first + groups * 8, k - groups * 8, w, out + groups * 8);
}

template <typename T>
inline void UnpackRange(const uint8_t* in, size_t in_bytes, uint64_t first, size_t k, int w, T* out) {
  const uint64_t mask = w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
  // Index of the first value whose 8-byte load would pass the end.
  const uint64_t fast_end = in_bytes >= 8 ? ((in_bytes - 8) * 8) / static_cast<uint64_t>(w) + 1 : 0;
  size_t i = 0;
  for (; i < k && first + i < fast_end; ++i) {
    const uint64_t bit = (first + i) * static_cast<uint64_t>(w);
    out[i] = static_cast<T>((LoadLE64(in + (bit >> 3)) >> (bit & 7)) & mask);
  }
  for (; i < k; ++i) out[i] = static_cast<T>(UnpackOne(in, in_bytes, first + i, w));
}

}  // namespace

void BitUnpack(const uint8_t* in, size_t n, int w, uint32_t* out) {
  if (w == 0) {
    std::fill(out, out + n, 0u);
    return;
  }
  size_t in_bytes = (n * static_cast<size_t>(w) + 7) / 8;
  for (size_t k = 0; k < n; ++k) out[k] = UnpackOne(in, in_bytes, k, w);
}

namespace {

// Packs the 8 values v[0, 8) (each below 2^w, w <= 16) LSB first into dst[0, w) with 64-bit
// arithmetic: values 0-3 fill the low 4w bits, values 4-7 the next 4w, stored 8 bytes at a
// time over the first store's zero bytes. May write zeros up to dst + w + 8.
template <typename T>
inline void PackGroup16(const T* v, int w, uint8_t* dst) {
  const uint64_t lo = static_cast<uint64_t>(v[0]) | static_cast<uint64_t>(v[1]) << w |
                      static_cast<uint64_t>(v[2]) << (2 * w) | static_cast<uint64_t>(v[3]) << (3 * w);
  uint64_t hi = static_cast<uint64_t>(v[4]) | static_cast<uint64_t>(v[5]) << w |
                static_cast<uint64_t>(v[6]) << (2 * w) | static_cast<uint64_t>(v[7]) << (3 * w);
  std::memcpy(dst, &lo, 8);
  const int at = (4 * w) >> 3;
  if (w & 1) hi = (hi << 4) | dst[at];  // 4w is 4 bits past a byte: share that byte (w <= 15)
  std::memcpy(dst + at, &hi, 8);
}

template <typename T>
void PackGroupBits(const T* v, int w, uint8_t* dst) {
  uint64_t acc = 0;
  int bits = 0;
  for (int k = 0; k < 8; ++k) {
    acc |= static_cast<uint64_t>(v[k]) << bits;
    bits += w;
    while (bits >= 8) {
      *dst++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

template <typename T>
void EmitBitPacked(const T* v, size_t count, int w, ByteBuffer* out) {
  size_t groups = (count + 7) / 8;
  out->AppendVarint((static_cast<uint64_t>(groups) << 1) | 1);
  size_t nbytes = groups * static_cast<size_t>(w);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->Grow(nbytes + 8));  // PackGroup16's slack
  if (w > 0) {
    const uint64_t mask = w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
    T group[8];
    for (size_t first = 0; first < count; first += 8, dst += w) {
      const size_t k = std::min<size_t>(8, count - first);
      for (size_t i = 0; i < 8; ++i) group[i] = i < k ? static_cast<T>(v[first + i] & mask) : 0;
      if (w <= 16) {
        PackGroup16(group, w, dst);
      } else {
        PackGroupBits(group, w, dst);
      }
    }
  }
  out->Advance(nbytes);
}

void EmitRle(uint32_t value, size_t count, int w, ByteBuffer* out) {
  out->AppendVarint(static_cast<uint64_t>(count) << 1);
  int value_bytes = (w + 7) / 8;
  for (int b = 0; b < value_bytes; ++b) out->PushByte(static_cast<uint8_t>(value >> (8 * b)));
}

template <typename T>
void RleEncodeImpl(const T* v, size_t n, int w, ByteBuffer* out) {
  size_t lit_start = 0;
  size_t i = 0;
  while (i < n) {
    const T x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) ++j;
    size_t run = j - i;
    if (run >= 8) {
      size_t pending = i - lit_start;
      size_t borrow = (8 - pending % 8) % 8;  // pad the literals to whole groups of 8
      if (run - borrow >= 8) {
        if (pending + borrow > 0) EmitBitPacked(v + lit_start, pending + borrow, w, out);
        EmitRle(static_cast<uint32_t>(x), run - borrow, w, out);
        lit_start = j;
      }
    }
    i = j;
  }
  if (lit_start < n) EmitBitPacked(v + lit_start, n - lit_start, w, out);
}

}  // namespace

void RleHybridEncode(const uint32_t* values, size_t n, int bit_width, ByteBuffer* out) {
  RleEncodeImpl(values, n, bit_width, out);
}
void RleHybridEncode(const uint8_t* values, size_t n, int bit_width, ByteBuffer* out) {
  RleEncodeImpl(values, n, bit_width, out);
}

// ---- RleDecoder ----

void RleDecoder::Reset(const uint8_t* data, size_t size, int bit_width) {
  p_ = data;
  end_ = data + size;
  bit_width_ = bit_width;
  rle_left_ = bp_left_ = 0;
}

absl::Status RleDecoder::NextRun() {
  if (bit_width_ < 0 || bit_width_ > 32) {
    return absl::DataLossError(absl::StrCat("RLE: bad bit width ", bit_width_));
  }
  uint64_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (p_ >= end_) return absl::DataLossError("RLE: data ends before all values were read");
    if (shift > 63) return absl::DataLossError("RLE: bad run header");
    uint8_t b = *p_++;
    header |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (header & 1) {
    uint64_t groups = header >> 1;
    if (groups == 0) return absl::DataLossError("RLE: empty bit-packed run");
    if (groups > (1ull << 40)) return absl::DataLossError("RLE: bad bit-packed run length");
    uint64_t want = groups * static_cast<uint64_t>(bit_width_);
    size_t avail = static_cast<size_t>(end_ - p_);
    // Some writers truncate the final run's padding; accept the bytes that are there.
    bp_bytes_ = want <= avail ? static_cast<size_t>(want) : avail;
    bp_data_ = p_;
    p_ += bp_bytes_;
    bp_left_ = bit_width_ == 0 ? groups * 8 : std::min<uint64_t>(groups * 8, bp_bytes_ * 8 / bit_width_);
    bp_pos_ = 0;
    if (bp_left_ == 0) return absl::DataLossError("RLE: data ends before all values were read");
  } else {
    rle_left_ = header >> 1;
    if (rle_left_ == 0) return absl::DataLossError("RLE: empty run");
    int value_bytes = (bit_width_ + 7) / 8;
    if (end_ - p_ < value_bytes) return absl::DataLossError("RLE: data ends inside a run value");
    uint32_t v = 0;
    for (int b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(p_[b]) << (8 * b);
    p_ += value_bytes;
    if (bit_width_ < 32 && (v >> bit_width_) != 0) return absl::DataLossError("RLE: run value exceeds its bit width");
    rle_value_ = v;
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status RleDecoder::GetImpl(T* out, size_t count) {
  while (count > 0) {
    if (rle_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(rle_left_, count));
      std::fill(out, out + k, static_cast<T>(rle_value_));
      out += k;
      count -= k;
      rle_left_ -= k;
    } else if (bp_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(bp_left_, count));
      if (bit_width_ == 0) {
        std::fill(out, out + k, T{0});
      } else {
        UnpackFast(bp_data_, bp_bytes_, bp_pos_, k, bit_width_, out);
      }
      bp_pos_ += k;
      out += k;
      count -= k;
      bp_left_ -= k;
    } else {
      if (auto s = NextRun(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status RleDecoder::Get(uint32_t* out, size_t count) { return GetImpl(out, count); }
absl::Status RleDecoder::Get(uint8_t* out, size_t count) { return GetImpl(out, count); }

}  // namespace de::engine
