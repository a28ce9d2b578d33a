// Internal to engine/csv: a structural index over a chunk for the chunk parser. Stage 1 finds
// every delimiter, '\n' and quote byte 64 bytes at a time (SSE2 compares -> one 64-bit mask)
// and stores their offsets in a small window buffer; stage 2 (TokenizeIndexedRow) walks the
// offsets row by row, so the parser touches each special byte once instead of rescanning from
// every field start. Not thread-safe: one per parser.
#pragma once

#include <emmintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace de::engine::csv_internal {

class SpecialIndex {
 public:
  // `data[0, size)` must stay valid while the index is used; size < 4 GB.
  void Reset(const char* data, size_t size, char delim, char quote) {
    data_ = data;
    size_ = size;
    scanned_ = 0;
    n_ = i_ = 0;
    vd_ = _mm_set1_epi8(delim);
    vn_ = _mm_set1_epi8('\n');
    vq_ = _mm_set1_epi8(quote);
    has_quote_ = quote != 0;
    if (buf_.size() < kWindow + 64) buf_.resize(kWindow + 64);
  }

  // Offset of the next special byte, or -1 when there is none left.
  inline int64_t Next() {
    if (i_ == n_ && !Refill()) return -1;
    return buf_[i_++];
  }

  // The next offsets in bulk: [*begin, *end) are those of the current window not taken yet
  // (refilled when none are left; false at the end). Take(n) takes the first n of them.
  inline bool Window(const uint32_t** begin, const uint32_t** end) {
    if (i_ == n_ && !Refill()) return false;
    *begin = buf_.data() + i_;
    *end = buf_.data() + n_;
    return true;
  }
  inline void Take(size_t n) { i_ += n; }

 private:
  static constexpr size_t kWindow = 16 << 10;  // bytes scanned per refill

  inline uint64_t Mask16(const char* p, int shift) const {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, vd_), _mm_cmpeq_epi8(v, vn_));
    if (has_quote_) m = _mm_or_si128(m, _mm_cmpeq_epi8(v, vq_));
    return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(m))) << shift;
  }

  inline uint64_t Mask64(const char* p) const {
    return Mask16(p, 0) | Mask16(p + 16, 16) | Mask16(p + 32, 32) | Mask16(p + 48, 48);
  }

  bool Refill() {
    n_ = i_ = 0;
    while (n_ == 0 && scanned_ < size_) {
      const size_t stop = std::min(size_, scanned_ + kWindow);
      uint32_t* out = buf_.data();
      size_t n = 0;
      size_t pos = scanned_;
      for (; pos + 64 <= stop; pos += 64) {
        uint64_t m = Mask64(data_ + pos);
        while (m != 0) {
          out[n++] = static_cast<uint32_t>(pos + __builtin_ctzll(m));
          m &= m - 1;
        }
      }
      if (pos < stop) {  // the tail of the chunk: scan a zero-padded copy
        alignas(16) char tail[64] = {};
        std::memcpy(tail, data_ + pos, stop - pos);
        uint64_t m = Mask64(tail);
        if (stop - pos < 64) m &= (uint64_t{1} << (stop - pos)) - 1;
        while (m != 0) {
          out[n++] = static_cast<uint32_t>(pos + __builtin_ctzll(m));
          m &= m - 1;
        }
        pos = stop;
      }
      scanned_ = pos;
      n_ = n;
    }
    return n_ > 0;
  }

  const char* data_ = nullptr;
  size_t size_ = 0;
  size_t scanned_ = 0;
  std::vector<uint32_t> buf_;
  size_t n_ = 0, i_ = 0;
  __m128i vd_, vn_, vq_;
  bool has_quote_ = false;
};

// The special bytes of an index, after replaying offsets already taken from it (the block
// parser takes a block's offsets, and hands them back when the block needs the row parser).
struct ReplayIndex {
  const uint32_t* next = nullptr;
  const uint32_t* end = nullptr;
  SpecialIndex* index = nullptr;

  bool replaying() const { return next != end; }
  inline int64_t Next() { return next != end ? *next++ : index->Next(); }
};

// Splits the row starting at `p` (offset into the indexed chunk `base[0, size)`, which ends
// with '\n') exactly as TokenizeRow does, taking the special bytes from `index` (a
// SpecialIndex or a ReplayIndex). Returns the offset of the next row.
template <typename FieldVec, typename Index>
inline size_t TokenizeIndexedRow(size_t p, const char* base, size_t size, Index* index,
                                 char delim, char quote, FieldVec* fields, int64_t* lines,
                                 bool* unterminated) {
  fields->clear();
  size_t fstart = p;
  bool has_quote = false;
  while (true) {
    int64_t s = index->Next();
    if (s < 0) break;  // not reached outside quotes: the chunk ends with '\n'
    const size_t pos = static_cast<size_t>(s);
    const char c = base[pos];
    if (c == delim) {
      fields->push_back({static_cast<uint32_t>(fstart), static_cast<uint32_t>(pos), has_quote});
      fstart = pos + 1;
      has_quote = false;
      continue;
    }
    if (c == '\n') {
      size_t fe = pos;
      if (fe > fstart && base[fe - 1] == '\r') --fe;
      fields->push_back({static_cast<uint32_t>(fstart), static_cast<uint32_t>(fe), has_quote});
      ++*lines;
      return pos + 1;
    }
    // A quote: skip the quoted section ("" stays inside it), counting its newlines.
    has_quote = true;
    bool closed = false;
    while (true) {
      int64_t q = index->Next();
      if (q < 0) break;
      const char qc = base[q];
      if (qc == '\n') {
        ++*lines;
        continue;
      }
      if (qc != quote) continue;
      if (base[q + 1] == quote) {
        index->Next();  // the doubled quote is the next special byte
        continue;
      }
      closed = true;
      break;
    }
    if (!closed) break;
  }
  // A quoted section runs to the end of the chunk.
  size_t fe = size;
  while (fe > fstart && (base[fe - 1] == '\n' || base[fe - 1] == '\r')) --fe;
  fields->push_back({static_cast<uint32_t>(fstart), static_cast<uint32_t>(fe), true});
  *unterminated = true;
  return size;
}

}  // namespace de::engine::csv_internal
