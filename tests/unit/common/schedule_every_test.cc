// `@every DURATION` schedules: fixed intervals in absolute time from the anchor (start_date).
#include <string>
#include <vector>

#include "common/dag/schedule.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/schedule_test_util.h"

namespace de::dag {
namespace {

using ::testing::HasSubstr;

// @every: fixed intervals in absolute time from the anchor, the same length across DST.
TEST(ScheduleEveryTest, TicksAreAnchorPlusMultiples) {
  const absl::Time anchor = At("2024-10-26T22:00:00Z");  // Berlin 2024-10-27 00:00 +02:00
  auto s = Schedule::Parse("@every 90m", "Europe/Berlin", anchor);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->every(), absl::Minutes(90));
  EXPECT_EQ(s->Next(anchor - absl::Hours(100)), anchor);
  EXPECT_EQ(s->Prev(anchor), absl::InfinitePast());
  EXPECT_TRUE(s->IsTick(anchor));
  // Over the autumn change every interval is 90 real minutes.
  std::vector<absl::Time> ticks = {anchor};
  for (int i = 0; i < 20; ++i) ticks.push_back(s->Next(ticks.back()));
  for (size_t i = 1; i < ticks.size(); ++i) EXPECT_EQ(ticks[i] - ticks[i - 1], absl::Minutes(90));
  CheckConsistent(*s, ticks, absl::Minutes(7));
  // 90 real minutes apart, 30 local minutes apart: the clocks went back an hour in between.
  EXPECT_EQ(Fmt(ticks[1], s->zone()), "2024-10-27T01:30:00+02:00");
  EXPECT_EQ(Fmt(ticks[2], s->zone()), "2024-10-27T02:00:00+01:00");
  EXPECT_FALSE(s->UsesEitherDayRule());
  DataInterval iv = s->FirstIntervalAtOrAfter(anchor + absl::Minutes(1));
  EXPECT_EQ(iv.start, anchor + absl::Minutes(90));
  EXPECT_EQ(iv.end, anchor + absl::Minutes(180));
  auto latest = s->LatestCompleteInterval(anchor + absl::Minutes(200), anchor);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->start, anchor + absl::Minutes(90));
}

TEST(ScheduleEveryTest, DurationForms) {
  struct Form {
    std::string text;
    absl::Duration want;
  };
  for (const Form& f : std::vector<Form>{{"15m", absl::Minutes(15)},
                                         {"1h", absl::Hours(1)},
                                         {"90m", absl::Minutes(90)},
                                         {"2h30m", absl::Minutes(150)},
                                         {"1d", absl::Hours(24)},
                                         {" 1D ", absl::Hours(24)},
                                         {"1h30s", absl::Seconds(3630)}}) {
    auto d = ParseEveryInterval(f.text);
    ASSERT_TRUE(d.ok()) << f.text << ": " << d.status();
    EXPECT_EQ(*d, f.want) << f.text;
    auto s = Schedule::Parse("@every " + f.text, "UTC", At("2024-01-01T00:00:00Z"));
    ASSERT_TRUE(s.ok()) << f.text << ": " << s.status();
    EXPECT_EQ(s->Next(At("2024-01-01T00:00:00Z")), At("2024-01-01T00:00:00Z") + f.want);
  }
}

TEST(ScheduleEveryTest, RefusedFormsSayWhy) {
  const absl::Time anchor = At("2024-01-01T00:00:00Z");
  struct Bad {
    std::string expr;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {"@every", "needs an interval"},
           {"@every 15", "expected NUMBER UNIT parts"},
           {"@every 15w", "unknown unit 'w'"},
           {"@every 30s", "at least 1m"},
           {"@every 0m", "at least 1m"},
           {"@every -5m", "expected NUMBER UNIT parts"},
           {"@every15m", "unknown macro"},
       }) {
    auto s = Schedule::Parse(b.expr, "UTC", anchor);
    ASSERT_FALSE(s.ok()) << b.expr;
    EXPECT_THAT(s.status().message(), HasSubstr(b.message)) << b.expr;
  }
  auto no_anchor = Schedule::Parse("@every 15m", "UTC");
  ASSERT_FALSE(no_anchor.ok());
  EXPECT_THAT(no_anchor.status().message(), HasSubstr("needs start_date"));
}

}  // namespace
}  // namespace de::dag
