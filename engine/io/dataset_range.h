// Helpers of dataset.cc (internal to engine/io): time-range bounds, time partition values
// (`dt=YYYY-MM-DD`, `month=YYYY-MM`) and hive value decoding. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace de::engine::dataset_internal {

// A range bound as written in `from:` / `to:`: "YYYY-MM-DD" or an ISO timestamp such as the
// scheduler renders for {{ data_interval_start }} ("2024-01-01T00:00:00+00:00"; also a space
// instead of 'T', "Z", or no offset). Only the date written in the string counts (the DAG's local
// date); `*midnight` says whether the time of day is 00:00:00.
absl::Status ParseRangeBound(std::string_view s, const std::string& what, int64_t* day,
                             bool* midnight);

enum class Grain { kDay, kMonth };
const char* GrainPlural(Grain g);  // "days" "months"

// Partition keys that carry a time range: dt, date, day, ds, month, and csv_to_parquet's buckets
// `<col>_day` / `<col>_month` (also `<col>_date`).
bool IsTimeKey(std::string_view key);

// "2024-01-17" -> kDay; "2024-01" -> kMonth; *first_day = days since 1970-01-01 of the period's
// first day. False for anything else (including impossible dates like 2023-02-29).
bool ParsePeriod(std::string_view v, Grain* grain, int64_t* first_day);
// First day of the period after the one starting at `first_day`.
int64_t NextPeriod(Grain g, int64_t first_day);
// The first day >= `day` on which a period of `g` starts.
int64_t FirstPeriodStartingOnOrAfter(Grain g, int64_t day);
std::string FormatDay(int64_t day);                      // "2024-01-17"
std::string FormatPeriod(Grain g, int64_t first_day);    // "2024-01-17" or "2024-01"

// Hive folder value -> column value: %XX decoded (as csv_to_parquet's EscapePartitionValue
// encodes); *is_null for __HIVE_DEFAULT_PARTITION__.
std::string DecodePartitionValue(std::string_view v, bool* is_null);

}  // namespace de::engine::dataset_internal
