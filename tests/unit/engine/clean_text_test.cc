#include "engine/ops/clean_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/clean_test_util.h"

namespace de::engine {
namespace {

using ::testing::ElementsAre;
using testing::Strings;
using testing::Values;

TEST(CleanTextTest, TrimRemovesAsciiWhitespaceAtBothEnds) {
  Column c = Strings({"  a b ", "\tx\r\n", "", std::nullopt, "   ", "ok"});
  EXPECT_EQ(TrimStrings(&c), 3);
  EXPECT_THAT(Values(c), ElementsAre("a b", "x", "", "<null>", "", "ok"));
  EXPECT_EQ(c.bytes, "a bxok");
}

TEST(CleanTextTest, TrimLeavesTypedColumnsAlone) {
  Column c = testing::Int64s({1, 2});
  EXPECT_EQ(TrimStrings(&c), 0);
}

TEST(CleanTextTest, NullIfMatchesWholeValuesOnly) {
  Column c = Strings({"NA", "N/A", "NAN", "", "x", std::nullopt, "na"});
  EXPECT_EQ(NullIfTokens(&c, {"NA", "N/A", ""}), 3);
  EXPECT_THAT(Values(c), ElementsAre("<null>", "<null>", "NAN", "<null>", "x", "<null>", "na"));
}

TEST(CleanTextTest, LowerAndUpperMapLatinGreekCyrillic) {
  Column c = Strings({"Zoë ÜNÏ", "ΑΒΓ", "Привет", "ŁÓDŹ", "日本 A"});
  LowerStrings(&c);
  EXPECT_THAT(Values(c), ElementsAre("zoë ünï", "αβγ", "привет", "łódź", "日本 a"));
  UpperStrings(&c);
  EXPECT_THAT(Values(c), ElementsAre("ZOË ÜNÏ", "ΑΒΓ", "ПРИВЕТ", "ŁÓDŹ", "日本 A"));
}

TEST(CleanTextTest, FixTextReplacesInvalidUtf8AndRemovesControls) {
  Column c = Strings({"ok", std::string("a\xff" "b"), std::string("x\x01y\tz"), "日本",
                      std::string("\xe6\x97"), std::string("del\x7f")});
  std::vector<uint32_t> bad;
  EXPECT_EQ(FixText(&c, BadText::kReplace, &bad), 4);
  EXPECT_TRUE(bad.empty());
  EXPECT_THAT(Values(c), ElementsAre("ok", "a\xEF\xBF\xBD" "b", "xy\tz", "日本",
                                     "\xEF\xBF\xBD\xEF\xBF\xBD", "del"));
  for (size_t i = 0; i < c.size(); ++i) EXPECT_TRUE(IsCleanText(c.str(i))) << i;
}

TEST(CleanTextTest, FixTextRejectReportsRowsAndKeepsValues) {
  Column c = Strings({"ok", std::string("a\xc0\x80"), "fine\n", std::string("\x02")});
  std::vector<uint32_t> bad;
  EXPECT_EQ(FixText(&c, BadText::kReject, &bad), 2);
  EXPECT_THAT(bad, ElementsAre(1u, 3u));
  EXPECT_EQ(c.str(1), std::string("a\xc0\x80"));
}

TEST(CleanTextTest, CleanAsciiIsUntouched) {
  Column c = Strings({"plain", "text\twith tab"});
  std::string before = c.bytes;
  std::vector<uint32_t> bad;
  EXPECT_EQ(FixText(&c, BadText::kReplace, &bad), 0);
  EXPECT_EQ(c.bytes, before);
}

TEST(CleanTextTest, SurrogatesAndOverlongAreInvalid) {
  EXPECT_FALSE(IsCleanText("\xed\xa0\x80"));     // U+D800
  EXPECT_FALSE(IsCleanText("\xc1\xbf"));         // overlong
  EXPECT_FALSE(IsCleanText("\xf4\x90\x80\x80")); // > U+10FFFF
  EXPECT_TRUE(IsCleanText("\xf0\x9f\x98\x80"));  // emoji
}

}  // namespace
}  // namespace de::engine
