// Fast text -> value parsers used by the CSV reader (bool, int64, double, date, timestamp) and
// their inverse for partition folder names. Pure functions; thread-safe; no allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace de::engine {

// "true"/"false" in any letter case.
bool ParseCsvBool(std::string_view s, uint8_t* out);
// Optional sign, decimal digits, no overflow. Leading/trailing spaces are not accepted here.
// Inline: the CSV parser's hot path.
inline bool ParseCsvInt64(std::string_view s, int64_t* out);
// Decimal or scientific notation; "inf"/"nan" are not accepted (they infer as strings).
bool ParseCsvDouble(std::string_view s, double* out);
// YYYY-MM-DD (also YYYY/MM/DD) -> days since 1970-01-01.
bool ParseCsvDate(std::string_view s, int32_t* days);
// YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|(+|-)HH[:MM]] -> microseconds since the epoch (UTC).
// A bare date is midnight UTC.
bool ParseCsvTimestamp(std::string_view s, int64_t* micros);
// The two halves of ParseCsvTimestamp, so that a caller may reuse the days of a date prefix it
// has just seen: the date part of s[0, 10), and the rest of `s` given those days.
bool ParseCsvTimestampDate(std::string_view s, int32_t* days);
bool ParseCsvTimestampTime(std::string_view s, int32_t days, int64_t* micros);

// Days since the epoch <-> civil date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);

std::string FormatDate(int32_t days);            // "2024-01-31"
std::string FormatTimestamp(int64_t micros);     // "2024-01-31 12:34:56[.ffffff]"

// Exact decimals (Type::kDecimal): "-12.50" <-> unscaled -1250 at scale 2. Parsing accepts an
// optional sign, digits, and at most `scale` fraction digits (fewer are padded with zeros; more
// are an error rather than a silent rounding), with at most `precision` digits in all.
bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* unscaled);
std::string FormatDecimal(int64_t unscaled, int scale);

// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// The value of the `len` (1..8) decimal digits that end at `end`, reading the 8 bytes
// [end - 8, end) (the caller guarantees they are readable), without a branch per digit: the
// bytes before the digits are masked to leading zeros, the digits are checked 8 at a time and
// combined with three multiplications. False when a byte is not a digit.
inline bool ParseDigitsBefore(const char* end, size_t len, uint64_t* out) {
  uint64_t w;
  std::memcpy(&w, end - 8, 8);  // little-endian: the last digit is the top byte
  const unsigned shift = static_cast<unsigned>(8 * (8 - len));  // 0..56
  const uint64_t low = (uint64_t{1} << shift) - 1;
  w = (w & ~low) | (0x3030303030303030ull & low);
  if ((((w & 0xF0F0F0F0F0F0F0F0ull) |
        (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4))) != 0x3333333333333333ull) {
    return false;
  }
  w -= 0x3030303030303030ull;
  w = w * 10 + (w >> 8);
  w = (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
      32;
  *out = w;
  return true;
}

// ParseCsvInt64 for a field of at most 8 characters (sign included) whose 8 bytes before its end
// are readable; false for anything it does not take (the caller then uses ParseCsvInt64).
inline bool ParseShortInt64(std::string_view s, int64_t* out) {
  const size_t n = s.size();
  if (n == 0 || n > 8) return false;
  // The sign without a branch: signs are as unpredictable as the data.
  const uint64_t neg = s[0] == '-';
  const size_t digits = n - (neg | (s[0] == '+'));
  uint64_t v;
  if (digits == 0 || !ParseDigitsBefore(s.data() + n, digits, &v)) return false;
  *out = static_cast<int64_t>((v ^ (0 - neg)) + neg);
  return true;
}

inline bool ParseCsvInt64(std::string_view s, int64_t* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  if (p == end) return false;
  bool neg = false;
  if (*p == '-' || *p == '+') {
    neg = *p == '-';
    ++p;
    if (p == end) return false;
  }
  if (end - p > 19) return false;
  uint64_t v = 0;
  for (; p < end; ++p) {
    unsigned dgt = static_cast<unsigned>(*p - '0');
    if (dgt >= 10) return false;
    v = v * 10 + dgt;
  }
  // 19 digits fit in uint64; check the int64 range.
  if (neg) {
    if (v > 9223372036854775808ull) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > 9223372036854775807ull) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace de::engine
