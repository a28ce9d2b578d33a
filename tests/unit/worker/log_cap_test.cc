#include "worker/log_cap.h"

#include <gtest/gtest.h>

#include <string>

namespace de::worker {
namespace {

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += "line " + std::to_string(1000 + i) + "\n";  // 10 bytes
  return s;
}

TEST(LogCap, ZeroPassesEverythingThrough) {
  LogCap cap(0);
  EXPECT_EQ(cap.Feed(Lines(0, 1000)), Lines(0, 1000));
  EXPECT_EQ(cap.Finish(), "");
  EXPECT_EQ(cap.dropped(), 0);
}

TEST(LogCap, UnderTheCapIsUnchangedWhateverTheSplit) {
  LogCap cap(1000);
  const std::string text = Lines(0, 90);   // 900 bytes
  std::string out;
  for (char c : text) out += cap.Feed(std::string_view(&c, 1));
  out += cap.Finish();
  EXPECT_EQ(out, text);
  EXPECT_EQ(cap.dropped(), 0);
}

TEST(LogCap, KeepsHeadAndTailWithMarkerBetween) {
  LogCap cap(1000);   // head 500, tail 500
  const std::string text = Lines(0, 1000);   // 10,000 bytes
  std::string out;
  for (size_t i = 0; i < text.size(); i += 37) out += cap.Feed(std::string_view(text).substr(i, 37));
  out += cap.Finish();
  EXPECT_EQ(out.substr(0, 500), Lines(0, 50));
  const std::string marker = "[de: 9000 bytes of log dropped]\n";
  EXPECT_EQ(out.substr(500, marker.size()), marker);
  EXPECT_EQ(out.substr(500 + marker.size()), Lines(950, 1000));
  EXPECT_EQ(cap.dropped(), 9000);
}

TEST(LogCap, TailStartsAtALineAndHeadCutMidLineGetsNewline) {
  LogCap cap(105);   // head 53, tail 52
  std::string out = cap.Feed(Lines(0, 100));
  EXPECT_EQ(out, Lines(0, 100).substr(0, 53));
  out += cap.Finish();
  // the tail's 52 bytes start 2 bytes into a line: that partial line is dropped too
  EXPECT_EQ(out, Lines(0, 100).substr(0, 53) + "\n[de: 897 bytes of log dropped]\n" +
                     Lines(95, 100));
}

}  // namespace
}  // namespace de::worker
