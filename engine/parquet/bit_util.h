// Byte-level helpers shared by the Parquet code: little-endian loads/stores, ULEB128 varints,
// zigzag, bit widths, and ByteBuffer (a growable byte array that does not zero-fill).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace de::engine {

static_assert(std::endian::native == std::endian::little, "the Parquet code assumes a little-endian host");

inline void StoreLE32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void StoreLE64(void* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint32_t LoadLE32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadLE64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Counts the 1 bytes of v[0, n), a decoded validity run of 0/1 bytes, into *ones; false when a
// byte is neither 0 nor 1. Eight bytes at a time: the multiply sums a word's bytes into its top.
inline bool CountValidBytes(const uint8_t* v, size_t n, size_t* ones) {
  size_t count = 0;
  uint64_t any_bad = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t w = LoadLE64(v + i);
    any_bad |= w & 0xFEFEFEFEFEFEFEFEull;
    count += static_cast<size_t>(((w & 0x0101010101010101ull) * 0x0101010101010101ull) >> 56);
  }
  for (; i < n; ++i) {
    count += v[i];
    any_bad |= v[i] & 0xFE;
  }
  *ones = count;
  return any_bad == 0;
}

// Number of bits needed to represent `v` (0 for 0).
inline int BitWidth(uint64_t v) { return static_cast<int>(std::bit_width(v)); }

inline uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes `v` as ULEB128 at `p` (room for 10 bytes needed); returns the bytes written.
inline int PutVarint(uint8_t* p, uint64_t v) {
  int n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<uint8_t>(v);
  return n;
}

// A growable byte buffer without zero-filling; keeps its capacity across clear().
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  char* data() { return buf_.get(); }
  const char* data() const { return buf_.get(); }
  uint8_t* udata() { return reinterpret_cast<uint8_t*>(buf_.get()); }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  std::string_view view() const { return std::string_view(buf_.get(), size_); }

  void Reserve(size_t n) {
    if (n > cap_) Realloc(n);
  }
  // Makes room for `n` more bytes and returns where they go (size unchanged; see Advance).
  char* Grow(size_t n) {
    if (size_ + n > cap_) Realloc(size_ + n);
    return buf_.get() + size_;
  }
  void Advance(size_t n) { size_ += n; }
  void Resize(size_t n) {
    Reserve(n);
    size_ = n;
  }
  void Append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(Grow(n), p, n);
    size_ += n;
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  void PushByte(uint8_t b) {
    *Grow(1) = static_cast<char>(b);
    ++size_;
  }
  void AppendVarint(uint64_t v) {
    size_ += PutVarint(reinterpret_cast<uint8_t*>(Grow(10)), v);
  }
  void Release() {
    buf_.reset();
    size_ = cap_ = 0;
  }

 private:
  void Realloc(size_t need) {
    size_t cap = cap_ < 64 ? 64 : cap_;
    while (cap < need) cap += cap / 2 + 64;
    std::unique_ptr<char[]> nb(new char[cap]);
    if (size_ > 0) std::memcpy(nb.get(), buf_.get(), size_);
    buf_ = std::move(nb);
    cap_ = cap;
  }

  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace de::engine
