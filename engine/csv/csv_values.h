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
bool ParseCsvInt64(std::string_view s, int64_t* out);
// Decimal or scientific notation; "inf"/"nan" are not accepted (they infer as strings).
bool ParseCsvDouble(std::string_view s, double* out);
// YYYY-MM-DD (also YYYY/MM/DD) -> days since 1970-01-01.
bool ParseCsvDate(std::string_view s, int32_t* days);
// YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|(+|-)HH[:MM]] -> microseconds since the epoch (UTC).
// A bare date is midnight UTC.
bool ParseCsvTimestamp(std::string_view s, int64_t* micros);

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

}  // namespace de::engine
