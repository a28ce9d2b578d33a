#include "engine/ops/clean_text.h"

#include <cstring>
#include <string_view>

namespace de::engine {

namespace {

inline bool IsSpace(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');  // \t \n \v \f \r
}

// Rewrites every string of `c` through `fn(view) -> view` (a sub-range of the value), moving
// bytes down in place. Returns the number of values changed.
template <typename Fn>
int64_t ShrinkInPlace(Column* c, Fn fn) {
  const size_t n = c->size();
  char* base = c->bytes.data();
  uint32_t w = 0;
  int64_t changed = 0;
  uint32_t begin = c->offsets[0];
  for (size_t i = 0; i < n; ++i) {
    const uint32_t end = c->offsets[i + 1];
    std::string_view v(base + begin, end - begin);
    std::string_view r = fn(v);
    if (r.size() != v.size()) ++changed;
    if (w != static_cast<uint32_t>(r.data() - base) && !r.empty()) {
      std::memmove(base + w, r.data(), r.size());
    }
    w += static_cast<uint32_t>(r.size());
    c->offsets[i + 1] = w;
    begin = end;
  }
  c->bytes.resize(w);
  return changed;
}

// Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid (overlong, surrogate, beyond
// U+10FFFF, truncated).
inline size_t Utf8Len(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned cp, min;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (static_cast<size_t>(end - p) < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

inline bool IsBadControl(unsigned char c) {
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
}

// Byte classes that need a closer look: non-ASCII, or a control character.
inline bool NeedsLook(unsigned char c) { return c >= 0x80 || IsBadControl(c); }

// Eight bytes at a time: a word is plain when every byte is in 0x20..0x7E.
inline bool WordIsPlain(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;   // a byte < 0x20
  const uint64_t x = w ^ (kOnes * 0x7F);
  const uint64_t is_del = (x - kOnes) & ~x & kHigh;                // a byte == 0x7F
  return ((w & kHigh) | below_space | is_del) == 0;
}

bool AnyNeedsLook(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (!WordIsPlain(w)) {
      for (int k = 0; k < 8; ++k) {
        if (NeedsLook(static_cast<unsigned char>(p[k]))) return true;
      }
    }
    p += 8;
    n -= 8;
  }
  for (size_t k = 0; k < n; ++k) {
    if (NeedsLook(static_cast<unsigned char>(p[k]))) return true;
  }
  return false;
}

void AppendFixed(std::string_view v, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const auto* end = p + v.size();
  while (p < end) {
    if (*p < 0x80) {
      if (!IsBadControl(*p)) out->push_back(static_cast<char>(*p));
      ++p;
      continue;
    }
    size_t len = Utf8Len(p, end);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD for one bad byte
      ++p;
    } else {
      out->append(reinterpret_cast<const char*>(p), len);
      p += len;
    }
  }
}

// Simple case mapping of a 2-byte code point (see the header for the ranges); returns cp when
// there is no mapping.
unsigned MapCase(unsigned cp, bool upper) {
  if (upper) {
    if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)) return cp - 0x20;
    if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 0x20;
    if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  } else {
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 0x20;
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  }
  // Latin Extended-A: pairs (upper, lower) starting on even code points in 0100-0137 and
  // 014A-0177, on odd ones in 0139-0148 and 0179-017E.
  bool even_pairs = (cp >= 0x100 && cp <= 0x137 && cp != 0x130 && cp != 0x131) ||
                    (cp >= 0x14A && cp <= 0x177);
  bool odd_pairs = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
  if (even_pairs || odd_pairs) {
    bool is_upper = even_pairs ? (cp % 2 == 0) : (cp % 2 == 1);
    if (upper && !is_upper) return cp - 1;
    if (!upper && is_upper) return cp + 1;
  }
  return cp;
}

void ChangeCase(Column* c, bool upper) {
  if (c->type != Type::kString) return;
  auto* p = reinterpret_cast<unsigned char*>(c->bytes.data());
  auto* end = p + c->bytes.size();
  while (p < end) {
    unsigned b = *p;
    if (b < 0x80) {
      if (upper && b >= 'a' && b <= 'z') *p = static_cast<unsigned char>(b - 32);
      if (!upper && b >= 'A' && b <= 'Z') *p = static_cast<unsigned char>(b + 32);
      ++p;
      continue;
    }
    if ((b & 0xE0) == 0xC0 && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
      unsigned cp = ((b & 0x1F) << 6) | (p[1] & 0x3F);
      unsigned m = MapCase(cp, upper);
      if (m != cp && m >= 0x80 && m < 0x800) {
        p[0] = static_cast<unsigned char>(0xC0 | (m >> 6));
        p[1] = static_cast<unsigned char>(0x80 | (m & 0x3F));
      }
      p += 2;
      continue;
    }
    ++p;  // a longer sequence (or a stray byte): skip its bytes one by one
  }
}

}  // namespace

int64_t TrimStrings(Column* c) {
  if (c->type != Type::kString) return 0;
  // Most values need nothing: look at their first and last bytes only.
  const size_t n = c->size();
  const char* base = c->bytes.data();
  size_t first = n;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = c->offsets[i], e = c->offsets[i + 1];
    if (b != e && (IsSpace(static_cast<unsigned char>(base[b])) ||
                   IsSpace(static_cast<unsigned char>(base[e - 1])))) {
      first = i;
      break;
    }
  }
  if (first == n) return 0;
  return ShrinkInPlace(c, [](std::string_view v) {
    size_t b = 0, e = v.size();
    while (b < e && IsSpace(static_cast<unsigned char>(v[b]))) ++b;
    while (e > b && IsSpace(static_cast<unsigned char>(v[e - 1]))) --e;
    return v.substr(b, e - b);
  });
}

int64_t NullIfTokens(Column* c, const std::vector<std::string>& tokens) {
  if (c->type != Type::kString || tokens.empty()) return 0;
  // Lengths of the tokens, to skip most values with one comparison.
  uint64_t len_mask = 0;
  bool long_token = false;
  for (const auto& t : tokens) {
    if (t.size() < 64) len_mask |= 1ull << t.size();
    else long_token = true;
  }
  int64_t nulled = 0;
  const size_t n = c->size();
  for (size_t i = 0; i < n; ++i) {
    if (!c->valid[i]) continue;
    const uint32_t len = c->offsets[i + 1] - c->offsets[i];
    if (len < 64 ? !(len_mask >> len & 1) : !long_token) continue;
    std::string_view v = c->str(i);
    for (const auto& t : tokens) {
      if (v == t) {
        c->valid[i] = 0;
        ++nulled;
        break;
      }
    }
  }
  return nulled;
}

void LowerStrings(Column* c) { ChangeCase(c, false); }
void UpperStrings(Column* c) { ChangeCase(c, true); }

bool ParseBadText(std::string_view s, BadText* out) {
  if (s == "replace") *out = BadText::kReplace;
  else if (s == "reject") *out = BadText::kReject;
  else return false;
  return true;
}

bool IsCleanText(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      if (IsBadControl(*p)) return false;
      ++p;
      continue;
    }
    size_t len = Utf8Len(p, end);
    if (len == 0) return false;
    p += len;
  }
  return true;
}

int64_t FixText(Column* c, BadText mode, std::vector<uint32_t>* bad_rows) {
  if (c->type != Type::kString || !AnyNeedsLook(c->bytes)) return 0;
  const size_t n = c->size();
  int64_t bad = 0;
  size_t first_bad = n;
  for (size_t i = 0; i < n; ++i) {
    if (IsCleanText(c->str(i))) continue;
    ++bad;
    if (first_bad == n) first_bad = i;
    if (mode == BadText::kReject && c->valid[i]) bad_rows->push_back(static_cast<uint32_t>(i));
  }
  if (bad == 0 || mode == BadText::kReject) return bad;
  // Rebuild from the first bad value on.
  std::string out(c->bytes.data(), c->offsets[first_bad]);
  out.reserve(c->bytes.size() + 16);
  std::vector<uint32_t> offs(c->offsets.begin() + first_bad + 1, c->offsets.end());
  uint32_t begin = c->offsets[first_bad];
  for (size_t i = first_bad; i < n; ++i) {
    const uint32_t end = offs[i - first_bad];
    std::string_view v(c->bytes.data() + begin, end - begin);
    if (IsCleanText(v)) out.append(v);
    else AppendFixed(v, &out);
    c->offsets[i + 1] = static_cast<uint32_t>(out.size());
    begin = end;
  }
  c->bytes.swap(out);
  return bad;
}

}  // namespace de::engine
