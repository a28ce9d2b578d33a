// "Did you mean" helpers for validation messages: edit distance and nearest-candidate lookup.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace de::dag {

// Levenshtein distance between a and b (insert, delete, substitute each cost 1).
int EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo
// (distance <= 1 for words up to 3 letters, else <= half its length, rounded up; or one is a
// prefix of the other). Ties go to the earliest candidate; the smallest distance wins.; ""
// otherwise.
std::string NearestMatch(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" for the nearest candidate, or "" when nothing is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace de::dag
