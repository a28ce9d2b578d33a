#include "worker/log_cap.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace de::worker {

LogCap::LogCap(int64_t max_bytes)
    : head_left_(max_bytes > 0 ? max_bytes - std::min(max_bytes / 2, kMaxTailBytes)
                               : std::numeric_limits<int64_t>::max()),
      tail_limit_(max_bytes > 0 ? std::min(max_bytes / 2, kMaxTailBytes) : 0) {}

std::string LogCap::Feed(std::string_view chunk) {
  const size_t head = static_cast<size_t>(std::min<int64_t>(head_left_, chunk.size()));
  std::string now(chunk.substr(0, head));
  head_left_ -= static_cast<int64_t>(head);
  if (head > 0) head_ends_line_ = now.back() == '\n';
  chunk.remove_prefix(head);
  if (chunk.empty()) return now;
  // Past the head: keep the newest tail_limit_ bytes in a ring, count the rest as dropped.
  const size_t limit = static_cast<size_t>(tail_limit_);
  if (chunk.size() >= limit) {
    if (chunk.size() > limit) {
      last_dropped_ = chunk[chunk.size() - limit - 1];
    } else if (!tail_.empty()) {
      last_dropped_ = tail_[(tail_start_ + tail_.size() - 1) % tail_.size()];
    }
    dropped_ += static_cast<int64_t>(tail_.size() + chunk.size() - limit);
    tail_.assign(chunk.substr(chunk.size() - limit));
    tail_start_ = 0;
    return now;
  }
  for (char c : chunk) {
    if (tail_.size() < limit) {
      tail_.push_back(c);
    } else {
      last_dropped_ = tail_[tail_start_];
      tail_[tail_start_] = c;
      tail_start_ = (tail_start_ + 1) % limit;
      ++dropped_;
    }
  }
  return now;
}

std::string LogCap::Finish() {
  std::string tail = tail_.substr(tail_start_) + tail_.substr(0, tail_start_);
  tail_.clear();
  tail_start_ = 0;
  if (dropped_ == 0) return tail;   // everything fitted: the tail is simply the rest
  // Start the kept tail at a line boundary when it has one (the cut line counts as dropped).
  size_t nl = tail.find('\n');
  if (last_dropped_ != '\n' && nl != std::string::npos && nl + 1 < tail.size()) {
    dropped_ += static_cast<int64_t>(nl + 1);
    tail.erase(0, nl + 1);
  }
  return absl::StrCat(head_ends_line_ ? "" : "\n", "[de: ", dropped_, " bytes of log dropped]\n",
                      tail);
}

}  // namespace de::worker
