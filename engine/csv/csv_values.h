// Fast text -> value parsers used by the CSV reader (bool, int64, double, date, timestamp) and
// their inverse for partition folder names. Pure functions; thread-safe; no allocation.
#pragma once

#include <cstdint>
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
