// Internal to engine/csv: the byte-level tokenizer shared by the sniffer, the splitter and the
// chunk parser (SSE2 scans for delimiters, newlines and quotes). Pure functions; thread-safe.
#pragma once

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace de::engine::csv_internal {

inline std::string_view TrimSpaces(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Counts occurrences of `a` and of `b` in [p, e), 16 bytes at a time (byte counters summed
// with SAD every 255 blocks, so no popcount instruction is needed).
inline void CountTwo(const char* p, const char* e, char a, char b, int64_t* na, int64_t* nb) {
  int64_t ca = 0, cb = 0;
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), zero = _mm_setzero_si128();
  while (e - p >= 16) {
    size_t blocks = std::min<size_t>(static_cast<size_t>(e - p) / 16, 255);
    __m128i acc_a = zero, acc_b = zero;
    for (size_t i = 0; i < blocks; ++i, p += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      acc_a = _mm_sub_epi8(acc_a, _mm_cmpeq_epi8(v, va));
      acc_b = _mm_sub_epi8(acc_b, _mm_cmpeq_epi8(v, vb));
    }
    __m128i sa = _mm_sad_epu8(acc_a, zero), sb = _mm_sad_epu8(acc_b, zero);
    ca += _mm_cvtsi128_si64(sa) + _mm_extract_epi16(sa, 4);
    cb += _mm_cvtsi128_si64(sb) + _mm_extract_epi16(sb, 4);
  }
  for (; p < e; ++p) {
    ca += *p == a;
    cb += *p == b;
  }
  *na = ca;
  *nb = cb;
}

inline int64_t CountNewlines(const char* p, const char* e) {
  int64_t n, unused;
  CountTwo(p, e, '\n', '\n', &n, &unused);
  return n;
}

// Position just past the last row boundary ('\n' outside quotes) in data[0, n), or 0.
// The data must start at a row boundary. Quote state is the parity of quote characters, which
// is exactly how the tokenizer below moves in and out of quoted sections. With `newlines`, also
// counts the '\n' bytes before the boundary (in the same pass over the data).
inline size_t LastRowBoundary(const char* data, size_t n, char quote,
                              int64_t* newlines = nullptr) {
  if (quote == 0) {
    const void* nl = memrchr(data, '\n', n);
    const size_t b = nl ? static_cast<const char*>(nl) - data + 1 : 0;
    if (newlines != nullptr) *newlines = CountNewlines(data, data + b);
    return b;
  }
  int64_t q = 0, nl = 0;
  CountTwo(data, data + n, quote, '\n', &q, &nl);
  size_t quotes = static_cast<size_t>(q);
  size_t after = 0;
  int64_t nl_after = 0;
  for (size_t i = n; i-- > 0;) {
    char c = data[i];
    if (c == quote) {
      ++after;
    } else if (c == '\n') {
      if (((quotes - after) & 1) == 0) {
        if (newlines != nullptr) *newlines = nl - nl_after;
        return i + 1;
      }
      ++nl_after;
    }
  }
  if (newlines != nullptr) *newlines = 0;
  return 0;
}

// Field bounds inside one row, as offsets from `base`.
struct RawField {
  uint32_t begin;
  uint32_t end;
  bool has_quote;
};

// Splits one row starting at `p`. The text [p, end) must end with '\n'. Returns the start of the
// next row; adds the newlines consumed to `*lines`; sets `*unterminated` when a quoted section
// runs to `end`. A trailing '\r' before the row's '\n' is not part of the last field.
template <typename FieldVec>
inline const char* TokenizeRow(const char* p, const char* end, const char* base,
                               const uint8_t* special, char delim, char quote, FieldVec* fields,
                               int64_t* lines, bool* unterminated) {
  fields->clear();
  const char* fstart = p;
  bool has_quote = false;
  const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n');
  const __m128i vq = quote != 0 ? _mm_set1_epi8(quote) : vn;
  while (true) {
    // Find the next delimiter, newline or quote: 16 bytes at a time, then byte by byte near
    // the end (the text ends with '\n', so the byte loop stops).
    while (end - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vn)), _mm_cmpeq_epi8(v, vq))));
      if (m != 0) {
        p += __builtin_ctz(m);
        goto found;
      }
      p += 16;
    }
    while (!special[static_cast<uint8_t>(*p)]) ++p;
  found:
    char c = *p;
    if (c == delim) {
      fields->push_back({static_cast<uint32_t>(fstart - base), static_cast<uint32_t>(p - base),
                         has_quote});
      ++p;
      fstart = p;
      has_quote = false;
      continue;
    }
    if (c == '\n') {
      const char* fe = p;
      if (fe > fstart && fe[-1] == '\r') --fe;
      fields->push_back({static_cast<uint32_t>(fstart - base), static_cast<uint32_t>(fe - base),
                         has_quote});
      ++*lines;
      return p + 1;
    }
    // A quote: skip the quoted section ("" stays inside it).
    has_quote = true;
    ++p;
    while (true) {
      const char* q = static_cast<const char*>(std::memchr(p, quote, end - p));
      if (q == nullptr) {
        *lines += CountNewlines(p, end);
        const char* fe = end;
        while (fe > fstart && (fe[-1] == '\n' || fe[-1] == '\r')) --fe;
        fields->push_back({static_cast<uint32_t>(fstart - base),
                           static_cast<uint32_t>(fe - base), true});
        *unterminated = true;
        return end;
      }
      *lines += CountNewlines(p, q);
      p = q + 1;
      if (*p == quote) {
        ++p;
        continue;
      }
      break;
    }
  }
}

// Value of a field containing quotes: it must be "..." with inner quotes doubled. Returns false
// for a malformed field.
inline bool UnescapeQuoted(std::string_view f, char quote, std::string* out) {
  if (f.size() < 2 || f.front() != quote || f.back() != quote) return false;
  out->clear();
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    char c = f[i];
    if (c == quote) {
      if (i + 2 >= f.size() || f[i + 1] != quote) return false;
      ++i;
    }
    out->push_back(c);
  }
  return true;
}

// True when `f` is a well-formed quoted field (what UnescapeQuoted accepts), without copying.
inline bool QuotedWellFormed(std::string_view f, char quote) {
  if (f.size() < 2 || f.front() != quote || f.back() != quote) return false;
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    if (f[i] == quote) {
      if (i + 2 >= f.size() || f[i + 1] != quote) return false;
      ++i;
    }
  }
  return true;
}

inline void BuildSpecial(char delim, char quote, uint8_t* special) {
  std::memset(special, 0, 256);
  special[static_cast<uint8_t>(delim)] = 1;
  special[static_cast<uint8_t>('\n')] = 1;
  if (quote != 0) special[static_cast<uint8_t>(quote)] = 1;
}

}  // namespace de::engine::csv_internal
