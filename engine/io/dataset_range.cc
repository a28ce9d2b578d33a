#include "engine/io/dataset_range.h"

#include "absl/strings/str_cat.h"
#include "engine/csv/csv_values.h"

namespace de::engine::dataset_internal {

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD" at the start of s (exactly 10 characters), a real calendar date.
bool ParseDayPrefix(std::string_view s, int64_t* day) {
  int y, m, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &m) ||
      !Digits(s, 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31) {
    return false;
  }
  int64_t z = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  int64_t yy;
  unsigned mm, dd;
  CivilFromDays(z, &yy, &mm, &dd);
  if (yy != y || mm != static_cast<unsigned>(m) || dd != static_cast<unsigned>(d)) return false;
  *day = z;
  return true;
}

}  // namespace

absl::Status ParseRangeBound(std::string_view s, const std::string& what, int64_t* day,
                             bool* midnight) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": '", std::string(s), "' is not a date (YYYY-MM-DD) or an ISO timestamp (2024-01-01T00:00:00+00:00)"));
  };
  if (!ParseDayPrefix(s, day)) return bad();
  *midnight = true;
  if (s.size() == 10) return absl::OkStatus();
  if (s[10] != 'T' && s[10] != ' ') return bad();
  // HH:MM[:SS[.fff]] then an optional Z or +HH:MM / -HH:MM / +HHMM.
  size_t i = 11;
  int hh, mi, ss = 0;
  if (!Digits(s, i, 2, &hh) || i + 2 >= s.size() || s[i + 2] != ':' || !Digits(s, i + 3, 2, &mi)) return bad();
  i += 5;
  bool frac_nonzero = false;
  if (i < s.size() && s[i] == ':') {
    if (!Digits(s, i + 1, 2, &ss)) return bad();
    i += 3;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') frac_nonzero |= s[i++] != '0';
      if (i == start) return bad();
    }
  }
  if (hh > 23 || mi > 59 || ss > 60) return bad();
  std::string_view zone = s.substr(i);
  int zh, zm;
  bool zone_ok = zone.empty() || zone == "Z" ||
                 ((zone[0] == '+' || zone[0] == '-') &&
                  ((zone.size() == 6 && zone[3] == ':' && Digits(zone, 1, 2, &zh) && Digits(zone, 4, 2, &zm)) ||
                   (zone.size() == 5 && Digits(zone, 1, 2, &zh) && Digits(zone, 3, 2, &zm)) ||
                   (zone.size() == 3 && Digits(zone, 1, 2, &zh))));
  if (!zone_ok) return bad();
  *midnight = hh == 0 && mi == 0 && ss == 0 && !frac_nonzero;
  return absl::OkStatus();
}

const char* GrainPlural(Grain g) { return g == Grain::kDay ? "days" : "months"; }

bool IsTimeKey(std::string_view key) {
  if (key == "dt" || key == "date" || key == "day" || key == "ds" || key == "month") return true;
  for (std::string_view suffix : {"_day", "_month", "_date"}) {
    if (key.size() > suffix.size() && key.substr(key.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

bool ParsePeriod(std::string_view v, Grain* grain, int64_t* first_day) {
  if (v.size() == 10) {
    if (!ParseDayPrefix(v, first_day)) return false;
    *grain = Grain::kDay;
    return true;
  }
  int y, m;
  if (v.size() == 7 && v[4] == '-' && Digits(v, 0, 4, &y) && Digits(v, 5, 2, &m) && m >= 1 && m <= 12) {
    *first_day = DaysFromCivil(y, static_cast<unsigned>(m), 1);
    *grain = Grain::kMonth;
    return true;
  }
  return false;
}

int64_t NextPeriod(Grain g, int64_t first_day) {
  if (g == Grain::kDay) return first_day + 1;
  int64_t y;
  unsigned m, d;
  CivilFromDays(first_day, &y, &m, &d);
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
}

int64_t FirstPeriodStartingOnOrAfter(Grain g, int64_t day) {
  if (g == Grain::kDay) return day;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  if (d == 1) return day;
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
}

std::string FormatDay(int64_t day) { return FormatDate(static_cast<int32_t>(day)); }

std::string FormatPeriod(Grain g, int64_t first_day) {
  std::string s = FormatDay(first_day);
  return g == Grain::kDay ? s : s.substr(0, 7);
}

std::string DecodePartitionValue(std::string_view v, bool* is_null) {
  *is_null = v == "__HIVE_DEFAULT_PARTITION__";
  if (*is_null) return "";
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 &&
        hex(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

}  // namespace de::engine::dataset_internal
