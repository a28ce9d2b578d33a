#include "engine/csv/csv_values.h"

#include <charconv>
#include <cstdio>
#include <cstring>

namespace de::engine {

namespace {

inline bool IsDigit(char c) { return static_cast<unsigned>(c - '0') < 10; }

// Parses exactly `n` digits at `p`.
inline bool Digits(const char* p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!IsDigit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return true;
}

inline bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses the date part at the start of `s`; returns the number of characters used (10) or 0.
inline size_t ParseDatePart(std::string_view s, int32_t* days) {
  if (s.size() < 10) return 0;
  const char* p = s.data();
  int y, m, d;
  char sep = p[4];
  if ((sep != '-' && sep != '/') || p[7] != sep) return 0;
  if (!Digits(p, 4, &y) || !Digits(p + 5, 2, &m) || !Digits(p + 8, 2, &d)) return 0;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, m)) return 0;
  *days = static_cast<int32_t>(DaysFromCivil(y, m, d));
  return 10;
}

}  // namespace

// Civil-calendar conversions (proleptic Gregorian), via 400-year eras of 146097 days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool ParseCsvBool(std::string_view s, uint8_t* out) {
  auto eq = [](std::string_view a, const char* lower) {
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != lower[i]) return false;
    }
    return true;
  };
  if (s.size() == 4 && eq(s, "true")) {
    *out = 1;
    return true;
  }
  if (s.size() == 5 && eq(s, "false")) {
    *out = 0;
    return true;
  }
  return false;
}

bool ParseCsvDouble(std::string_view s, double* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  if (p == end) return false;
  if (*p == '+') {
    ++p;
    if (p == end || *p == '-') return false;
  }
  // Only numbers: the first character must be a digit, a sign or a dot followed by a digit.
  const char* q = *p == '-' ? p + 1 : p;
  if (q == end) return false;
  if (!IsDigit(*q) && !(*q == '.' && q + 1 < end && IsDigit(q[1]))) return false;
  auto r = std::from_chars(p, end, *out, std::chars_format::general);
  return r.ec == std::errc() && r.ptr == end;
}

bool ParseCsvDate(std::string_view s, int32_t* days) {
  return s.size() == 10 && ParseDatePart(s, days) == 10;
}

bool ParseCsvTimestamp(std::string_view s, int64_t* micros) {
  int32_t days;
  if (ParseDatePart(s, &days) != 10) return false;
  return ParseCsvTimestampTime(s, days, micros);
}

bool ParseCsvTimestampDate(std::string_view s, int32_t* days) {
  return ParseDatePart(s, days) == 10;
}

bool ParseCsvTimestampTime(std::string_view s, int32_t days, int64_t* micros) {
  int64_t t = static_cast<int64_t>(days) * 86400;
  int64_t frac_us = 0;
  size_t i = 10;
  const size_t n = s.size();
  if (i < n) {
    if (s[i] != ' ' && s[i] != 'T') return false;
    ++i;
    int hh, mm, ss = 0;
    if (n - i < 5 || !Digits(s.data() + i, 2, &hh) || s[i + 2] != ':' ||
        !Digits(s.data() + i + 3, 2, &mm)) {
      return false;
    }
    i += 5;
    if (i < n && s[i] == ':') {
      if (n - i < 3 || !Digits(s.data() + i + 1, 2, &ss)) return false;
      i += 3;
      if (i < n && (s[i] == '.' || s[i] == ',')) {
        ++i;
        int digits = 0;
        while (i < n && IsDigit(s[i])) {
          if (digits < 6) frac_us = frac_us * 10 + (s[i] - '0');
          ++digits;
          ++i;
        }
        if (digits == 0) return false;
        for (int k = digits; k < 6; ++k) frac_us *= 10;
      }
    }
    if (hh > 23 || mm > 59 || ss > 60) return false;
    t += hh * 3600 + mm * 60 + ss;
    if (i < n) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh, om = 0;
        if (n - i < 2 || !Digits(s.data() + i, 2, &oh)) return false;
        i += 2;
        if (i < n) {
          if (s[i] == ':') ++i;
          if (n - i < 2 || !Digits(s.data() + i, 2, &om)) return false;
          i += 2;
        }
        if (oh > 23 || om > 59) return false;
        t -= sign * (oh * 3600 + om * 60);
      }
    }
    if (i != n) return false;
  }
  *micros = t * 1000000 + frac_us;
  return true;
}

std::string FormatDate(int32_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t us = micros % 1000000;
  if (us < 0) {
    us += 1000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::string out = FormatDate(static_cast<int32_t>(days));
  char buf[32];
  std::snprintf(buf, sizeof(buf), " %02d:%02d:%02d", static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  out += buf;
  if (us != 0) {
    std::snprintf(buf, sizeof(buf), ".%06d", static_cast<int>(us));
    out += buf;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Skip ASCII eight bytes at a time.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
      c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
      c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
      c &= 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    p += len;
  }
  return true;
}

bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* unscaled) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  uint64_t v = 0;
  int digits = 0, frac = 0;
  bool point = false, any = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
    any = true;
    if (point && ++frac > scale) return false;
    if (v != 0 || c != '0' || point) ++digits;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (digits > 18) return false;
  }
  if (!any) return false;
  for (; frac < scale; ++frac) {
    v *= 10;
    if (v != 0) ++digits;
  }
  if (precision > 0 && digits > precision) return false;
  if (v > static_cast<uint64_t>(INT64_MAX)) return false;
  *unscaled = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

std::string FormatDecimal(int64_t unscaled, int scale) {
  bool neg = unscaled < 0;
  uint64_t v = neg ? 0 - static_cast<uint64_t>(unscaled) : static_cast<uint64_t>(unscaled);
  std::string digits = std::to_string(v);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  }
  if (neg) digits.insert(0, 1, '-');
  return digits;
}

}  // namespace de::engine
