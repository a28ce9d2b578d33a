// `clean` text kernels over string columns: trim, null tokens, letter case, and repair (or
// detection) of invalid UTF-8 and control characters. Each works in place on one Column and over
// every row of it (rows outside a selection are harmless to touch: they are never written).
// Pure functions over caller-owned data; thread-safe on distinct columns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/columnar/column.h"

namespace de::engine {

// Removes ASCII whitespace (space, \t, \n, \r, \v, \f) at both ends of every string. Returns the
// number of values changed. No-op on non-string columns.
int64_t TrimStrings(Column* c);

// Sets null every non-null string equal to one of `tokens` (exact, case-sensitive; "" matches
// the empty string). Returns the number of values nulled. No-op on non-string columns.
int64_t NullIfTokens(Column* c, const std::vector<std::string>& tokens);

// Simple (one code point to one code point, same byte length) case mapping of ASCII, Latin-1,
// Latin Extended-A, Greek and Cyrillic letters; other characters are kept. No-op on non-strings.
void LowerStrings(Column* c);
void UpperStrings(Column* c);

// Invalid UTF-8 sequences and control characters (C0 except \t \n \r, and DEL).
enum class BadText {
  kReplace,  // an invalid sequence becomes U+FFFD, a control character is removed
  kReject,   // the row is reported in `bad_rows` (values are left as they are)
};
bool ParseBadText(std::string_view s, BadText* out);   // "replace" "reject"

// Returns the number of values that needed repair. With kReject, appends the rows holding such
// a value to `bad_rows` (ascending).
int64_t FixText(Column* c, BadText mode, std::vector<uint32_t>* bad_rows);

// True when `s` is valid UTF-8 without control characters other than \t \n \r.
bool IsCleanText(std::string_view s);

}  // namespace de::engine
