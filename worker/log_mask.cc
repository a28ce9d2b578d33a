#include "worker/log_mask.h"

#include <algorithm>
#include <set>
#include <utility>

namespace de::worker {
namespace {

constexpr std::string_view kMasked = "***";

// KMP failure function: border[q] is the length of the longest proper prefix of text[0, q) that
// is also its suffix.
std::vector<size_t> Borders(std::string_view text) {
  std::vector<size_t> border(text.size() + 1, 0);
  size_t k = 0;
  for (size_t q = 1; q < text.size(); ++q) {
    while (k > 0 && text[q] != text[k]) k = border[k];
    if (text[q] == text[k]) ++k;
    border[q + 1] = k;
  }
  return border;
}

}  // namespace

LogMask::LogMask(const std::vector<std::string>& values) {
  std::set<std::string> distinct;
  for (const auto& v : values) {
    if (!v.empty()) distinct.insert(v);
  }
  for (const auto& v : distinct) values_.push_back({v, Borders(v)});
}

std::string LogMask::Mask(std::string_view buf, bool final, size_t* consumed) const {
  const size_t n = buf.size();
  size_t hold = n;   // bytes from here on could be the start of a value cut by the chunk's end
  std::vector<std::pair<size_t, size_t>> matches;   // (start, length)
  for (const Value& v : values_) {
    const size_t m = v.text.size();
    size_t q = 0;   // length of the longest prefix of the value ending at buf[i]
    for (size_t i = 0; i < n; ++i) {
      while (q > 0 && v.text[q] != buf[i]) q = v.border[q];
      if (v.text[q] == buf[i]) ++q;
      if (q == m) {
        matches.emplace_back(i + 1 - m, m);
        q = v.border[m];
      }
    }
    // q < m: the longest suffix of buf that is a proper prefix of this value.
    if (!final && q > 0) hold = std::min(hold, n - q);
  }
  // Leftmost first; at one start, the longest.
  std::sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  std::string out;
  out.reserve(n);
  size_t cursor = 0;
  for (const auto& [start, len] : matches) {
    if (start < cursor) continue;   // overlaps the match just replaced
    // A match from `hold` on may lose to a longer value that the next chunk completes.
    if (start >= hold) break;
    out.append(buf.substr(cursor, start - cursor));
    out.append(kMasked);
    cursor = start + len;
  }
  const size_t end = std::max(cursor, hold);
  out.append(buf.substr(cursor, end - cursor));
  *consumed = end;
  return out;
}

std::string LogMask::Feed(std::string_view chunk) {
  if (values_.empty()) return std::string(chunk);
  std::string joined;
  std::string_view buf = chunk;
  if (!pending_.empty()) {
    joined = pending_;
    joined.append(chunk);
    buf = joined;
  }
  size_t consumed = 0;
  std::string out = Mask(buf, /*final=*/false, &consumed);
  pending_ = std::string(buf.substr(consumed));
  return out;
}

std::string LogMask::Flush() {
  size_t consumed = 0;
  std::string out = Mask(pending_, /*final=*/true, &consumed);
  pending_.clear();
  return out;
}

std::string LogMask::MaskAll(std::string_view text) const {
  if (values_.empty()) return std::string(text);
  size_t consumed = 0;
  return Mask(text, /*final=*/true, &consumed);
}

}  // namespace de::worker
