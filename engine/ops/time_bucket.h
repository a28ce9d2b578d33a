// Time buckets for group-by keys: truncate a date or timestamp to the hour, day, week (ISO,
// starting Monday, as DuckDB's date_trunc('week', ...)), month or year. A date stays a date
// (hour of a date is the date at 00:00 as a timestamp); a timestamp stays a timestamp.
// Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"

namespace de::engine {

enum class TimeBucket { kNone, kHour, kDay, kWeek, kMonth, kYear };

bool ParseTimeBucket(std::string_view s, TimeBucket* out);   // hour day week month year
const char* TimeBucketName(TimeBucket b);

// The type of a bucket of a column of type `t` (date or timestamp), or an error.
absl::StatusOr<Type> TimeBucketType(TimeBucket b, Type t);

// Days since 1970-01-01 truncated to the bucket (kDay: unchanged; kHour: unchanged).
int32_t TruncateDays(int32_t days, TimeBucket b);
// Microseconds since the epoch truncated to the bucket.
int64_t TruncateMicros(int64_t micros, TimeBucket b);

// out = bucket(in) for the selected rows (other rows are left as nulls); `out` gets the
// TimeBucketType. `in` is a date or timestamp column.
void ApplyTimeBucket(const Column& in, const Selection& sel, TimeBucket b, Column* out);

}  // namespace de::engine
