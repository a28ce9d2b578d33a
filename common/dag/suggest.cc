#include "common/dag/suggest.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace de::dag {

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string NearestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const int size = static_cast<int>(word.size());
  const int limit = size <= 3 ? 1 : (size + 1) / 2;
  std::string best;
  int best_distance = 0;
  for (const std::string& c : candidates) {
    int d = EditDistance(word, c);
    bool prefix = word.size() >= 3 && c.size() >= 3 &&
                  (c.compare(0, word.size(), word) == 0 || word.compare(0, c.size(), c) == 0);
    if (d > limit && !prefix) continue;
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string m = NearestMatch(word, candidates);
  if (m.empty()) return "";
  return " (did you mean '" + m + "'?)";
}

}  // namespace de::dag
