#include "cli/parse.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kJan31 = 1706659200000;  // 2024-01-31T00:00:00Z

TEST(ParseDateTest, AcceptsDatesAndIsoTimestamps) {
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {
      {"2024-01-31", kJan31},
      {" 2024-01-31 ", kJan31},
      {"2024-01-31T03:00:00Z", kJan31 + 3 * 3600000},
      {"2024-01-31T03:00:00", kJan31 + 3 * 3600000},  // UTC without offset
      {"2024-01-31 03:00:00", kJan31 + 3 * 3600000},
      {"2024-01-31T03:00", kJan31 + 3 * 3600000},
      {"2024-01-31T03:00Z", kJan31 + 3 * 3600000},
      {"2024-01-31T03:00:00.250Z", kJan31 + 3 * 3600000 + 250},
      {"2024-01-31T03:00:00+02:00", kJan31 + 1 * 3600000},
      {"2024-01-31T03:00:00-01:30", kJan31 + 4 * 3600000 + 30 * 60000},
  };
  for (const auto& c : cases) {
    auto ms = ParseDateMs(c.text);
    ASSERT_TRUE(ms.ok()) << c.text << ": " << ms.status();
    EXPECT_EQ(*ms, c.ms) << c.text;
  }
}

TEST(ParseDateTest, RejectsGarbage) {
  for (const char* text : {"", "yesterday", "2024-13-01", "2024-02-30", "2024/01/31",
                           "2024-01-31T25:00:00Z", "2024-01-31x", "31-01-2024"}) {
    auto ms = ParseDateMs(text);
    EXPECT_FALSE(ms.ok()) << text;
    EXPECT_THAT(ms.status().message(), HasSubstr("expected YYYY-MM-DD")) << text;
  }
}

TEST(ParseConfTest, SplitsAtTheFirstEquals) {
  auto conf = ParseConf({"a=1", "b=x=y", "empty="});
  ASSERT_TRUE(conf.ok()) << conf.status();
  EXPECT_EQ(conf->at("a"), "1");
  EXPECT_EQ(conf->at("b"), "x=y");
  EXPECT_EQ(conf->at("empty"), "");
  EXPECT_TRUE(ParseConf({})->empty());
}

TEST(ParseConfTest, Errors) {
  EXPECT_THAT(ParseConf({"novalue"}).status().message(),
              HasSubstr("bad --conf 'novalue': expected KEY=VALUE"));
  EXPECT_FALSE(ParseConf({"=v"}).ok());
  EXPECT_THAT(ParseConf({"a=1", "a=2"}).status().message(), HasSubstr("--conf a given twice"));
}

TEST(ParseTimeoutTest, DurationsAndSeconds) {
  EXPECT_EQ(*ParseTimeout("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseTimeout("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseTimeout("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeout("5"), absl::Seconds(5));
  EXPECT_FALSE(ParseTimeout("0s").ok());
  EXPECT_FALSE(ParseTimeout("-1s").ok());
  EXPECT_FALSE(ParseTimeout("soon").ok());
}

}  // namespace
}  // namespace de::cli
