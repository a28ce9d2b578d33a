// Caps one attempt's log so a chatty task cannot fill DE_HOME: of a stream of any length it keeps
// the first bytes (the head, sent as they come) and the last ones (the tail, held back in memory
// and sent at the end), with one line "[de: N bytes of log dropped]" between them. Head + tail
// never exceed the cap; the tail is min(cap / 2, 4 MiB) and starts at a line boundary when the
// held bytes contain one. A cap of 0 passes everything through.
//
// Not thread-safe: one stream per object, used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace de::worker {

class LogCap {
 public:
  explicit LogCap(int64_t max_bytes = 0);

  // The part of `chunk` to send now (empty once the head is full).
  std::string Feed(std::string_view chunk);
  // At the end of the stream: the marker and the tail, or "" when nothing was dropped.
  std::string Finish();
  // Bytes dropped so far (final after Finish()).
  int64_t dropped() const { return dropped_; }

  static constexpr int64_t kMaxTailBytes = int64_t{4} << 20;

 private:
  int64_t head_left_;      // bytes the head may still take (INT64_MAX = no cap)
  int64_t tail_limit_;     // bytes of tail kept
  bool head_ends_line_ = true;
  std::string tail_;       // ring: the last tail_limit_ bytes after the head, from tail_start_
  size_t tail_start_ = 0;
  int64_t dropped_ = 0;
  char last_dropped_ = '\n';   // the byte just before the tail
};

}  // namespace de::worker
