// LIKE patterns, compiled once: exact, prefix%, %suffix, %infix% and % get direct string
// operations; anything else runs a linear-time wildcard matcher (no backtracking blow-up).
#include <string>

#include "engine/ops/expr_nodes.h"

namespace de::engine::expr_internal {
namespace {

// The byte after the UTF-8 character starting at s[i].
size_t NextChar(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

}  // namespace

LikeMatcher::LikeMatcher(std::string pattern) : pattern_(std::move(pattern)) {
  size_t first_wild = pattern_.find_first_of("%_");
  prefix_ = pattern_.substr(0, first_wild == std::string::npos ? pattern_.size() : first_wild);
  kind_ = Kind::kGeneral;
  if (pattern_.find('_') != std::string::npos) return;
  size_t percents = 0;
  for (char c : pattern_) percents += c == '%';
  size_t n = pattern_.size();
  if (percents == 0) {
    kind_ = Kind::kExact;
    needle_ = pattern_;
  } else if (percents == n) {
    kind_ = Kind::kAny;
  } else if (percents == 1 && pattern_[n - 1] == '%') {
    kind_ = Kind::kPrefix;
    needle_ = pattern_.substr(0, n - 1);
  } else if (percents == 1 && pattern_[0] == '%') {
    kind_ = Kind::kSuffix;
    needle_ = pattern_.substr(1);
  } else if (percents == 2 && pattern_[0] == '%' && pattern_[n - 1] == '%') {
    kind_ = Kind::kContains;
    needle_ = pattern_.substr(1, n - 2);
  }
}

bool LikeMatcher::Match(std::string_view s) const {
  switch (kind_) {
    case Kind::kExact: return s == needle_;
    case Kind::kAny: return true;
    case Kind::kPrefix:
      return s.size() >= needle_.size() && s.compare(0, needle_.size(), needle_) == 0;
    case Kind::kSuffix:
      return s.size() >= needle_.size() &&
             s.compare(s.size() - needle_.size(), needle_.size(), needle_) == 0;
    case Kind::kContains: return s.find(needle_) != std::string_view::npos;
    case Kind::kGeneral: return General(s);
  }
  return false;
}

// Greedy wildcard matching: on a mismatch, retry from the last % one character further on.
bool LikeMatcher::General(std::string_view s) const {
  std::string_view p = pattern_;
  size_t pi = 0, si = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == '_') {
      ++pi;
      si = NextChar(s, si);
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      mark = NextChar(s, mark);
      si = mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

}  // namespace de::engine::expr_internal
