#include "worker/log_mask.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace de::worker {
namespace {

// Feeds `chunks` one by one and flushes; returns everything the mask let out.
std::string Stream(LogMask& mask, const std::vector<std::string>& chunks) {
  std::string out;
  for (const auto& c : chunks) out += mask.Feed(c);
  return out + mask.Flush();
}

TEST(LogMaskTest, NoValuesPassesChunksThroughWholeAndHoldsNothing) {
  LogMask mask;
  EXPECT_TRUE(mask.empty());
  EXPECT_EQ(mask.Feed("pw=hunter2\n"), "pw=hunter2\n");
  EXPECT_EQ(mask.Feed("h"), "h");
  EXPECT_EQ(mask.Flush(), "");
  EXPECT_EQ(mask.MaskAll("abc"), "abc");
  LogMask only_empty({"", ""});
  EXPECT_TRUE(only_empty.empty());
  EXPECT_EQ(only_empty.Feed("x"), "x");
}

TEST(LogMaskTest, MasksEveryOccurrenceInOneChunk) {
  LogMask mask({"hunter2"});
  EXPECT_EQ(mask.Feed("pw=hunter2 again hunter2\n"), "pw=*** again ***\n");
  EXPECT_EQ(mask.Flush(), "");
  EXPECT_EQ(mask.MaskAll("hunter2hunter2"), "******");
}

TEST(LogMaskTest, ValueSplitAcrossTwoChunks) {
  LogMask mask({"hunter2"});
  EXPECT_EQ(mask.Feed("pw=hun"), "pw=");   // "hun" could start the value
  EXPECT_EQ(mask.Feed("ter2!\n"), "***!\n");
  EXPECT_EQ(mask.Flush(), "");
}

TEST(LogMaskTest, ValueSplitAcrossThreeChunks) {
  LogMask mask({"s3cret-value"});
  EXPECT_EQ(Stream(mask, {"a s3c", "ret-v", "alue b"}), "a *** b");
}

TEST(LogMaskTest, ValueAtTheVeryEnd) {
  LogMask mask({"hunter2"});
  EXPECT_EQ(mask.Feed("pw=hunter"), "pw=");
  EXPECT_EQ(mask.Feed("2"), "***");   // complete, and no longer value could follow
  EXPECT_EQ(mask.Flush(), "");
}

TEST(LogMaskTest, ValueAtTheVeryEndIsMaskedByFlush) {
  // "hunter2" could still grow into "hunter2-long": held until the stream ends.
  LogMask mask({"hunter2", "hunter2-long"});
  EXPECT_EQ(mask.Feed("pw=hunter2"), "pw=");
  EXPECT_EQ(mask.Flush(), "***");
}

TEST(LogMaskTest, HeldBackBytesAreReleasedWhenTheyAreNotASecret) {
  LogMask mask({"hunter2"});
  EXPECT_EQ(mask.Feed("hunt"), "");
  EXPECT_EQ(mask.Feed("ing season"), "hunting season");
  EXPECT_EQ(mask.Feed("hunter"), "");
  EXPECT_EQ(mask.Flush(), "hunter");   // the stream ended before the value was complete
}

TEST(LogMaskTest, HoldsBackAtMostLongestValueMinusOneBytes) {
  LogMask mask({"abcdef", "xy"});
  std::string out = mask.Feed("0123abcde");
  EXPECT_EQ(out, "0123");   // 5 bytes held = longest (6) - 1
  out = mask.Feed("abcde");
  EXPECT_EQ(out, "abcde");   // the first "abcde" was not the value; the second may be
  EXPECT_EQ(mask.Feed("f"), "***");
}

TEST(LogMaskTest, ManyValues) {
  LogMask mask({"alpha-1", "bravo-22", "charlie-333", "delta-4444"});
  EXPECT_EQ(Stream(mask, {"a=alpha-1 b=bra", "vo-22 c=charlie-3", "33 d=delta-4444", " e=delta-4"}),
            "a=*** b=*** c=*** d=*** e=delta-4");
}

TEST(LogMaskTest, OverlappingValuesPreferTheLongestAtAPosition) {
  LogMask mask({"abc", "abcdef"});
  EXPECT_EQ(mask.MaskAll("xabcdefx abcx"), "x***x ***x");
  // Streaming: "abc" complete at the chunk end must wait, "abcdef" may follow.
  EXPECT_EQ(mask.Feed("xabc"), "x");
  EXPECT_EQ(mask.Feed("def"), "***");
  EXPECT_EQ(mask.Feed("abc"), "");
  EXPECT_EQ(mask.Feed("dx"), "***dx");   // not the long value: the short one is masked
  EXPECT_EQ(mask.Flush(), "");
}

TEST(LogMaskTest, OverlappingValuesLeftmostWins) {
  LogMask mask({"abcd", "cdefgh"});
  EXPECT_EQ(mask.MaskAll("xabcdefgh"), "x***efgh");
  EXPECT_EQ(mask.MaskAll("xcdefgh abcd"), "x*** ***");
}

TEST(LogMaskTest, SelfOverlappingValue) {
  LogMask mask({"aab"});
  EXPECT_EQ(Stream(mask, {"aaa", "ab", "aa", "b"}), "aa******");   // aaaabaab
}

TEST(LogMaskTest, ShortValuesAreMaskedToo) {
  LogMask mask({"x"});
  EXPECT_EQ(mask.Feed("axbx"), "a***b***");
}

// Any split of a text, fed chunk by chunk, gives exactly MaskAll of the whole text.
TEST(LogMaskTest, AnySplitEqualsMaskAll) {
  std::mt19937 rng(42);
  const std::vector<std::string> values = {"abab", "ba", "aabba", "bbb"};
  LogMask mask(values);
  for (int round = 0; round < 500; ++round) {
    std::string text;
    int len = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < len; ++i) text += "abx"[std::uniform_int_distribution<int>(0, 2)(rng)];
    std::vector<std::string> chunks;
    for (size_t pos = 0; pos < text.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 6)(rng);
      chunks.push_back(text.substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(Stream(mask, chunks), mask.MaskAll(text)) << "text " << text;
  }
}

TEST(LogMaskTest, LargeChunkIsLinear) {
  // 4 MiB of a value's prefix repeated: a quadratic scan would not finish in test time.
  LogMask mask({std::string(1000, 'a') + "b"});
  std::string big(4 << 20, 'a');
  std::string out = mask.Feed(big);
  EXPECT_EQ(out.size(), big.size() - 1000);
  EXPECT_EQ(mask.Flush().size(), 1000u);
}

}  // namespace
}  // namespace de::worker
