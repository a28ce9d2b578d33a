#include "engine/ops/time_bucket.h"

#include "absl/strings/str_cat.h"

namespace de::engine {

namespace {

constexpr int64_t kMicrosPerHour = 3600ll * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Proleptic Gregorian calendar <-> days since 1970-01-01 (era arithmetic).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
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

int64_t TruncDays64(int64_t days, TimeBucket b) {
  switch (b) {
    case TimeBucket::kWeek:
      return days - (days + 3 - FloorDiv(days + 3, 7) * 7);  // 1970-01-01 was a Thursday
    case TimeBucket::kMonth:
    case TimeBucket::kYear: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, &y, &m, &d);
      return DaysFromCivil(y, b == TimeBucket::kYear ? 1 : m, 1);
    }
    default:
      return days;
  }
}

}  // namespace

bool ParseTimeBucket(std::string_view s, TimeBucket* out) {
  if (s == "hour") *out = TimeBucket::kHour;
  else if (s == "day") *out = TimeBucket::kDay;
  else if (s == "week") *out = TimeBucket::kWeek;
  else if (s == "month") *out = TimeBucket::kMonth;
  else if (s == "year") *out = TimeBucket::kYear;
  else return false;
  return true;
}

const char* TimeBucketName(TimeBucket b) {
  switch (b) {
    case TimeBucket::kNone: return "none";
    case TimeBucket::kHour: return "hour";
    case TimeBucket::kDay: return "day";
    case TimeBucket::kWeek: return "week";
    case TimeBucket::kMonth: return "month";
    case TimeBucket::kYear: return "year";
  }
  return "?";
}

absl::StatusOr<Type> TimeBucketType(TimeBucket b, Type t) {
  if (t != Type::kDate && t != Type::kTimestamp) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", TimeBucketName(b), " bucket needs a date or timestamp column, not ", TypeName(t)));
  }
  if (b == TimeBucket::kHour) return Type::kTimestamp;
  return t;
}

int32_t TruncateDays(int32_t days, TimeBucket b) {
  return static_cast<int32_t>(TruncDays64(days, b));
}

int64_t TruncateMicros(int64_t micros, TimeBucket b) {
  if (b == TimeBucket::kHour) return FloorDiv(micros, kMicrosPerHour) * kMicrosPerHour;
  if (b == TimeBucket::kNone) return micros;
  return TruncDays64(FloorDiv(micros, kMicrosPerDay), b) * kMicrosPerDay;
}

void ApplyTimeBucket(const Column& in, const Selection& sel, TimeBucket b, Column* out) {
  const size_t n = in.size();
  out->Clear();
  out->valid = in.valid;
  if (in.type == Type::kDate && b != TimeBucket::kHour) {
    out->type = Type::kDate;
    out->i32.assign(n, 0);
    int32_t last_in = 0, last_out = TruncateDays(0, b);
    for (size_t i = 0; i < sel.size(); ++i) {
      const uint32_t r = sel[i];
      if (!in.valid[r]) continue;
      const int32_t d = in.i32[r];
      if (d != last_in) {
        last_in = d;
        last_out = TruncateDays(d, b);
      }
      out->i32[r] = last_out;
    }
    return;
  }
  out->type = Type::kTimestamp;
  out->i64.assign(n, 0);
  const bool from_date = in.type == Type::kDate;
  // Cache the day of the previous row: consecutive rows mostly share their day.
  int64_t last_day = INT64_MIN, last_day_out = 0;
  for (size_t i = 0; i < sel.size(); ++i) {
    const uint32_t r = sel[i];
    if (!in.valid[r]) continue;
    const int64_t us = from_date ? static_cast<int64_t>(in.i32[r]) * kMicrosPerDay : in.i64[r];
    if (b == TimeBucket::kHour) {
      out->i64[r] = FloorDiv(us, kMicrosPerHour) * kMicrosPerHour;
      continue;
    }
    const int64_t day = FloorDiv(us, kMicrosPerDay);
    if (day != last_day) {
      last_day = day;
      last_day_out = TruncDays64(day, b) * kMicrosPerDay;
    }
    out->i64[r] = last_day_out;
  }
}

}  // namespace de::engine
