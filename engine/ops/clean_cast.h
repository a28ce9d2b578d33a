// `clean` casts: one Column converted in place to another type.
//
//   string    -> bool, int32, int64, double, date, timestamp (engine/csv/csv_values parsing:
//                the same text the CSV reader accepts; no surrounding spaces: trim first)
//   bool      -> int32, int64, double (0/1), string ("true"/"false")
//   int32/64  -> int32, int64 (range-checked), double, bool (0 is false), string
//   double    -> int32, int64 (rounded to nearest, ties to even, as DuckDB; range-checked; NaN and
//                infinities fail), bool, string (shortest round-trip text)
//   decimal   -> double, int32, int64 (through double), string (exact text)
//   date      -> timestamp (midnight UTC), string (YYYY-MM-DD)
//   timestamp -> date (the UTC day), string (YYYY-MM-DD HH:MM:SS[.ffffff])
// Anything else is refused by CanCast (a parameter error before any row is read).
// A null stays null. A value that does not convert becomes null and its row is reported.
// Pure functions over caller-owned data; thread-safe on distinct columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/columnar/column.h"

namespace de::engine {

bool CanCast(Type from, Type to);

struct CastFailure {
  uint32_t row = 0;
  std::string value;   // the value as text (cut at 200 bytes)
};

// Converts `c` to `to`. Rows whose value does not convert become null and are appended to
// `failures` (ascending). `scratch` is a reusable buffer (its content is replaced).
void CastColumn(Column* c, Type to, std::vector<CastFailure>* failures, Column* scratch);

// "cast delay 'abc' to int32"
std::string CastReason(std::string_view column, std::string_view value, Type to);

// The text of one value (nulls as ""), as casts to string write it.
void AppendValueText(const Column& c, size_t row, std::string* out);

}  // namespace de::engine
