// Hides secret values in text the worker reports: every occurrence of a value becomes "***".
// Works on a stream split into arbitrary chunks (a task's output): Feed() returns what is safe to
// send now and holds back only a tail that could be the start of a value (at most the longest
// value's length - 1 bytes); Flush() returns that tail at the end. Feeding a text in any split and
// then flushing gives exactly MaskAll(text). Matching is leftmost first, and at one position the
// longest value wins. Each value is matched with a KMP automaton, so a chunk costs
// O((chunk + longest value) * number of values).
//
// Not thread-safe: one stream per object, used by one thread at a time. MaskAll() is const.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace de::worker {

class LogMask {
 public:
  LogMask() = default;   // masks nothing
  // Empty values are ignored, duplicates folded.
  explicit LogMask(const std::vector<std::string>& values);

  // True when there is nothing to mask (Feed passes chunks through unchanged, holding nothing).
  bool empty() const { return values_.empty(); }

  // The masked text of everything fed so far that can no longer be part of a value.
  std::string Feed(std::string_view chunk);
  // The rest of the stream, masked; the object is then ready for a new stream.
  std::string Flush();
  // `text` on its own, masked (does not touch the stream state).
  std::string MaskAll(std::string_view text) const;

 private:
  struct Value {
    std::string text;
    std::vector<size_t> border;   // KMP: border[q] = longest proper border of text[0, q)
  };
  // Masks `buf`; with `final` false stops before a tail that could still grow into a value.
  // Returns the masked text and sets `*consumed` to the bytes of `buf` it covers.
  std::string Mask(std::string_view buf, bool final, size_t* consumed) const;

  std::vector<Value> values_;
  std::string pending_;   // held back, not yet masked
};

}  // namespace de::worker
