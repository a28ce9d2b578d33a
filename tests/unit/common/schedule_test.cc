#include "common/dag/schedule.h"

#include <random>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/schedule_test_util.h"

namespace de::dag {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

Schedule MustParse(const std::string& expr, const std::string& tz = "UTC") {
  auto s = Schedule::Parse(expr, tz);
  EXPECT_TRUE(s.ok()) << expr << ": " << s.status();
  return *s;
}

// The first `n` ticks strictly after `from`, formatted in the schedule's zone.
std::vector<std::string> Ticks(const Schedule& s, absl::Time from, int n) {
  std::vector<std::string> out;
  absl::Time t = from;
  for (int i = 0; i < n; ++i) {
    t = s.Next(t);
    out.push_back(Fmt(t, s.zone()));
  }
  return out;
}

struct Case {
  std::string expr;
  std::string tz;
  std::string from;
  std::vector<std::string> want;
};

class ScheduleTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ScheduleTableTest, NextTicksAndPrevAreConsistent) {
  const Case& c = GetParam();
  Schedule s = MustParse(c.expr, c.tz);
  EXPECT_THAT(Ticks(s, At(c.from), static_cast<int>(c.want.size())), ElementsAreArray(c.want))
      << c.expr << " in " << c.tz;
  std::vector<absl::Time> ticks;
  for (const auto& w : c.want) ticks.push_back(At(w));
  // Probe at a granularity that finds any tick missing from the list.
  absl::Duration span = ticks.back() - ticks.front();
  absl::Duration step = span > absl::Hours(24 * 400) ? absl::Hours(24) + absl::Minutes(7)
                        : span > absl::Hours(24 * 5) ? absl::Minutes(61)
                                                     : absl::Minutes(5);
  CheckConsistent(s, ticks, step);
  // Ticks before the first listed one are not in the window.
  EXPECT_LE(s.Prev(ticks.front()), At(c.from));
}

INSTANTIATE_TEST_SUITE_P(
    Cron, ScheduleTableTest,
    ::testing::Values(
        // Month ends: the 31st only exists in some months.
        Case{"0 0 31 * *",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-31T00:00:00+00:00", "2024-03-31T00:00:00+00:00", "2024-05-31T00:00:00+00:00",
              "2024-07-31T00:00:00+00:00", "2024-08-31T00:00:00+00:00"}},
        // Last day of February in leap years only; 2100 is not a leap year.
        Case{"0 12 29 2 *",
             "UTC",
             "2023-01-01T00:00:00Z",
             {"2024-02-29T12:00:00+00:00", "2028-02-29T12:00:00+00:00",
              "2032-02-29T12:00:00+00:00"}},
        Case{"0 12 29 2 *",
             "UTC",
             "2096-03-01T00:00:00Z",
             {"2104-02-29T12:00:00+00:00", "2108-02-29T12:00:00+00:00"}},
        // Steps.
        Case{"*/15 * * * *",
             "UTC",
             "2024-01-01T00:07:00Z",
             {"2024-01-01T00:15:00+00:00", "2024-01-01T00:30:00+00:00", "2024-01-01T00:45:00+00:00",
              "2024-01-01T01:00:00+00:00"}},
        Case{"1-10/4 */12 * * *",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-01T00:01:00+00:00", "2024-01-01T00:05:00+00:00", "2024-01-01T00:09:00+00:00",
              "2024-01-01T12:01:00+00:00", "2024-01-01T12:05:00+00:00", "2024-01-01T12:09:00+00:00",
              "2024-01-02T00:01:00+00:00"}},
        // Ranges, lists and day names (2024-01-05 is a Friday).
        Case{"0 9-17/4 * * MON-FRI",
             "UTC",
             "2024-01-05T14:00:00Z",
             {"2024-01-05T17:00:00+00:00", "2024-01-08T09:00:00+00:00", "2024-01-08T13:00:00+00:00",
              "2024-01-08T17:00:00+00:00"}},
        Case{"30 6 1 jan,Jul *",
             "UTC",
             "2024-01-01T06:30:00Z",
             {"2024-07-01T06:30:00+00:00", "2025-01-01T06:30:00+00:00",
              "2025-07-01T06:30:00+00:00"}},
        Case{"0 0 * * sat,7",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-06T00:00:00+00:00", "2024-01-07T00:00:00+00:00", "2024-01-13T00:00:00+00:00",
              "2024-01-14T00:00:00+00:00"}},
        Case{"0 0 * * 5-7",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-05T00:00:00+00:00", "2024-01-06T00:00:00+00:00", "2024-01-07T00:00:00+00:00",
              "2024-01-12T00:00:00+00:00"}},
        // dom and dow both restricted: either matches (2024-09-01 is a Sunday).
        Case{"0 0 13 * FRI",
             "UTC",
             "2024-09-01T00:00:00Z",
             {"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00", "2024-09-20T00:00:00+00:00",
              "2024-09-27T00:00:00+00:00", "2024-10-04T00:00:00+00:00", "2024-10-11T00:00:00+00:00",
              "2024-10-13T00:00:00+00:00", "2024-10-18T00:00:00+00:00"}},
        // dom restricted, dow '*': only the dom counts.
        Case{"0 0 1,15 * *",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-15T00:00:00+00:00", "2024-02-01T00:00:00+00:00",
              "2024-02-15T00:00:00+00:00"}},
        // Macros.
        Case{"@hourly",
             "UTC",
             "2024-12-31T22:30:00Z",
             {"2024-12-31T23:00:00+00:00", "2025-01-01T00:00:00+00:00",
              "2025-01-01T01:00:00+00:00"}},
        Case{"@daily",
             "UTC",
             "2024-02-28T00:00:00Z",
             {"2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00"}},
        Case{"@midnight",
             "UTC",
             "2024-02-28T00:00:00Z",
             {"2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00"}},
        Case{"@weekly",
             "UTC",
             "2024-01-03T10:00:00Z",
             {"2024-01-07T00:00:00+00:00", "2024-01-14T00:00:00+00:00",
              "2024-01-21T00:00:00+00:00"}},
        Case{"@monthly",
             "UTC",
             "2024-01-15T00:00:00Z",
             {"2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00",
              "2024-04-01T00:00:00+00:00"}},
        Case{"@yearly",
             "UTC",
             "2024-06-01T00:00:00Z",
             {"2025-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00",
              "2027-01-01T00:00:00+00:00"}},
        Case{"@ANNUALLY",
             "Europe/Berlin",
             "2024-06-01T00:00:00Z",
             {"2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00"}},
        // DST, New York, spring forward 2024-03-10 02:00 EST -> 03:00 EDT.
        Case{"30 2 * * *",
             "America/New_York",
             "2024-03-08T00:00:00-05:00",
             {"2024-03-08T02:30:00-05:00", "2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00",
              "2024-03-11T02:30:00-04:00", "2024-03-12T02:30:00-04:00"}},
        Case{"0 * * * *",
             "America/New_York",
             "2024-03-10T00:00:00-05:00",
             {"2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00",
              "2024-03-10T04:00:00-04:00"}},
        // Hourly schedules follow real time: no tick is invented at the end of the gap.
        Case{"30 * * * *",
             "America/New_York",
             "2024-03-10T00:00:00-05:00",
             {"2024-03-10T00:30:00-05:00", "2024-03-10T01:30:00-05:00", "2024-03-10T03:30:00-04:00",
              "2024-03-10T04:30:00-04:00"}},
        // New York fall back 2024-11-03 02:00 EDT -> 01:00 EST: 01:xx happens twice.
        Case{"30 2 * * *",
             "America/New_York",
             "2024-11-01T12:00:00-04:00",
             {"2024-11-02T02:30:00-04:00", "2024-11-03T02:30:00-05:00",
              "2024-11-04T02:30:00-05:00"}},
        Case{"30 1 * * *",
             "America/New_York",
             "2024-11-01T12:00:00-04:00",
             {"2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00",
              "2024-11-04T01:30:00-05:00"}},
        // Hourly: the repeated hour 01:00 fires in both occurrences.
        Case{"0 * * * *",
             "America/New_York",
             "2024-11-03T00:00:00-04:00",
             {"2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00",
              "2024-11-03T03:00:00-05:00"}},
        Case{"*/20 1 * * *",
             "America/New_York",
             "2024-11-03T00:00:00-04:00",
             {"2024-11-03T01:00:00-04:00", "2024-11-03T01:20:00-04:00", "2024-11-03T01:40:00-04:00",
              "2024-11-04T01:00:00-05:00"}},
        // Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST.
        Case{"30 2 * * *",
             "Europe/Berlin",
             "2024-03-29T12:00:00+01:00",
             {"2024-03-30T02:30:00+01:00", "2024-03-31T03:00:00+02:00",
              "2024-04-01T02:30:00+02:00"}},
        Case{"0 * * * *",
             "Europe/Berlin",
             "2024-03-31T00:00:00+01:00",
             {"2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00",
              "2024-03-31T04:00:00+02:00"}},
        // Berlin fall back 2024-10-27 03:00 CEST -> 02:00 CET: 02:xx happens twice.
        Case{"30 2 * * *",
             "Europe/Berlin",
             "2024-10-25T12:00:00+02:00",
             {"2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00",
              "2024-10-28T02:30:00+01:00"}},
        Case{"0 * * * *",
             "Europe/Berlin",
             "2024-10-27T00:00:00+02:00",
             {"2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
              "2024-10-27T03:00:00+01:00"}}));

INSTANTIATE_TEST_SUITE_P(
    Forms, ScheduleTableTest,
    ::testing::Values(
        Case{"@quarterly",
             "UTC",
             "2024-02-15T00:00:00Z",
             {"2024-04-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00", "2024-10-01T00:00:00+00:00",
              "2025-01-01T00:00:00+00:00"}},
        // L: the last day of each month, February of leap and common years.
        Case{"0 0 L * *",
             "UTC",
             "2023-12-31T00:00:00Z",
             {"2024-01-31T00:00:00+00:00", "2024-02-29T00:00:00+00:00", "2024-03-31T00:00:00+00:00",
              "2024-04-30T00:00:00+00:00"}},
        Case{"0 0 L 2 *",
             "UTC",
             "2022-01-01T00:00:00Z",
             {"2022-02-28T00:00:00+00:00", "2023-02-28T00:00:00+00:00", "2024-02-29T00:00:00+00:00",
              "2025-02-28T00:00:00+00:00"}},
        Case{"0 0 1,L * *",
             "UTC",
             "2024-02-01T00:00:00Z",
             {"2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00",
              "2024-03-31T00:00:00+00:00"}},
        // DAY#N: the Nth weekday of the month (2024-01-01 is a Monday).
        Case{"0 0 * * MON#1",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-02-05T00:00:00+00:00", "2024-03-04T00:00:00+00:00",
              "2024-04-01T00:00:00+00:00"}},
        Case{"0 0 * * 5#3",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-19T00:00:00+00:00", "2024-02-16T00:00:00+00:00",
              "2024-03-15T00:00:00+00:00"}},
        // #5 skips months without a fifth Friday (Jan, Feb, Apr 2024).
        Case{"0 0 * * FRI#5",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-03-29T00:00:00+00:00", "2024-05-31T00:00:00+00:00",
              "2024-08-30T00:00:00+00:00"}},
        Case{"0 0 * * 7#1",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-07T00:00:00+00:00", "2024-02-04T00:00:00+00:00"}},
        // A step larger than its range selects the range start only.
        Case{"*/60 * * * *",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-01T01:00:00+00:00", "2024-01-01T02:00:00+00:00"}},
        Case{"0 */30 * * *",
             "UTC",
             "2024-01-01T00:00:00Z",
             {"2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"}},
        // A full range is unrestricted, so the "either" rule does not apply (2024-09-01 is a Sunday).
        Case{"0 0 1-31 * FRI",
             "UTC",
             "2024-09-01T00:00:00Z",
             {"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00",
              "2024-09-20T00:00:00+00:00"}},
        Case{"0 0 13 * 0-6",
             "UTC",
             "2024-09-01T00:00:00Z",
             {"2024-09-13T00:00:00+00:00", "2024-10-13T00:00:00+00:00"}},
        Case{"0 0 13 * 1-7",
             "UTC",
             "2024-09-01T00:00:00Z",
             {"2024-09-13T00:00:00+00:00", "2024-10-13T00:00:00+00:00"}},
        // */2 is restricted: odd days OR Sundays.
        Case{"0 6 */2 * 0",
             "UTC",
             "2024-09-01T06:00:00Z",
             {"2024-09-03T06:00:00+00:00", "2024-09-05T06:00:00+00:00", "2024-09-07T06:00:00+00:00",
              "2024-09-08T06:00:00+00:00", "2024-09-09T06:00:00+00:00"}}));

// Hourly and sub-hourly schedules across DST: every real occurrence, nothing invented.
INSTANTIATE_TEST_SUITE_P(
    RealTimeDst, ScheduleTableTest,
    ::testing::Values(
        // London 2024-10-27 02:00 BST -> 01:00 GMT: 01:00 happens twice, all intervals 1 h.
        Case{"@hourly",
             "Europe/London",
             "2024-10-27T00:00:00+01:00",
             {"2024-10-27T01:00:00+01:00", "2024-10-27T01:00:00+00:00", "2024-10-27T02:00:00+00:00",
              "2024-10-27T03:00:00+00:00"}},
        Case{"*/5 * * * *",
             "Europe/London",
             "2024-10-27T01:50:00+01:00",
             {"2024-10-27T01:55:00+01:00", "2024-10-27T01:00:00+00:00", "2024-10-27T01:05:00+00:00",
              "2024-10-27T01:10:00+00:00"}},
        // London 2024-03-31 01:00 GMT -> 02:00 BST.
        Case{"@hourly",
             "Europe/London",
             "2024-03-30T23:30:00+00:00",
             {"2024-03-31T00:00:00+00:00", "2024-03-31T02:00:00+01:00",
              "2024-03-31T03:00:00+01:00"}},
        // Berlin spring 2025-03-30 02:00 -> 03:00: no extra 03:00 tick.
        Case{"26 * * * *",
             "Europe/Berlin",
             "2025-03-30T01:00:00+01:00",
             {"2025-03-30T01:26:00+01:00", "2025-03-30T03:26:00+02:00",
              "2025-03-30T04:26:00+02:00"}},
        // Berlin autumn 2024-10-27: 02:00 in both occurrences.
        Case{"0 */2 * * *",
             "Europe/Berlin",
             "2024-10-26T23:00:00+02:00",
             {"2024-10-27T00:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
              "2024-10-27T04:00:00+01:00"}},
        // New York 2023-03-12 02:00 EST -> 03:00 EDT.
        Case{"*/5 * * * *",
             "America/New_York",
             "2023-03-12T01:50:00-05:00",
             {"2023-03-12T01:55:00-05:00", "2023-03-12T03:00:00-04:00",
              "2023-03-12T03:05:00-04:00"}},
        // New York 2023-11-05: 01:xx twice.
        Case{"26 * * * *",
             "America/New_York",
             "2023-11-05T00:00:00-04:00",
             {"2023-11-05T00:26:00-04:00", "2023-11-05T01:26:00-04:00", "2023-11-05T01:26:00-05:00",
              "2023-11-05T02:26:00-05:00"}},
        // Chatham 2024-09-29 02:45 +12:45 -> 03:45 +13:45: 03:00 does not exist, no 15-min interval.
        Case{"@hourly",
             "Pacific/Chatham",
             "2024-09-29T00:30:00+12:45",
             {"2024-09-29T01:00:00+12:45", "2024-09-29T02:00:00+12:45", "2024-09-29T04:00:00+13:45",
              "2024-09-29T05:00:00+13:45"}},
        // Chatham 2024-04-07 03:45 +13:45 -> 02:45 +12:45: 03:00 twice, all intervals 1 h.
        Case{"@hourly",
             "Pacific/Chatham",
             "2024-04-07T01:30:00+13:45",
             {"2024-04-07T02:00:00+13:45", "2024-04-07T03:00:00+13:45", "2024-04-07T03:00:00+12:45",
              "2024-04-07T04:00:00+12:45"}},
        // Lord Howe 2024-10-06 02:00 +10:30 -> 02:30 +11:00 (a 30-minute shift).
        Case{"@hourly",
             "Australia/Lord_Howe",
             "2024-10-06T00:30:00+10:30",
             {"2024-10-06T01:00:00+10:30", "2024-10-06T03:00:00+11:00",
              "2024-10-06T04:00:00+11:00"}},
        // Lord Howe 2024-04-07 02:00 +11:00 -> 01:30 +10:30: 01:30-02:00 twice.
        Case{"*/30 * * * *",
             "Australia/Lord_Howe",
             "2024-04-07T01:00:00+11:00",
             {"2024-04-07T01:30:00+11:00", "2024-04-07T01:30:00+10:30", "2024-04-07T02:00:00+10:30",
              "2024-04-07T02:30:00+10:30"}}));

// Counts the ticks of `expr` within one local day and checks they are `gap` apart.
void ExpectRealHours(const std::string& expr, const std::string& tz, absl::CivilDay day, int want,
                     absl::Duration gap) {
  Schedule s = MustParse(expr, tz);
  absl::Time begin = absl::FromCivil(day, s.zone());
  absl::Time end = absl::FromCivil(day + 1, s.zone());
  std::vector<absl::Time> ticks;
  for (absl::Time t = s.Next(begin - absl::Nanoseconds(1)); t < end; t = s.Next(t)) {
    ticks.push_back(t);
  }
  EXPECT_EQ(static_cast<int>(ticks.size()), want) << expr << " " << tz << " " << day;
  for (size_t i = 1; i < ticks.size(); ++i) {
    EXPECT_EQ(ticks[i] - ticks[i - 1], gap) << expr << " " << tz << " at " << Fmt(ticks[i], s.zone());
  }
}

TEST(ScheduleTest, HourlyFiresEveryRealHourOnceOnTransitionDays) {
  struct Day {
    std::string tz;
    absl::CivilDay day;
    int hours;
  };
  std::vector<Day> days = {
      {"Europe/London", absl::CivilDay(2023, 3, 26), 23}, {"Europe/London", absl::CivilDay(2023, 10, 29), 25},
      {"Europe/London", absl::CivilDay(2024, 3, 31), 23}, {"Europe/London", absl::CivilDay(2024, 10, 27), 25},
      {"Europe/Berlin", absl::CivilDay(2025, 3, 30), 23}, {"Europe/Berlin", absl::CivilDay(2025, 10, 26), 25},
      {"America/New_York", absl::CivilDay(2024, 3, 10), 23},
      {"America/New_York", absl::CivilDay(2025, 11, 2), 25},
      {"America/New_York", absl::CivilDay(2025, 6, 1), 24},
      {"Asia/Kathmandu", absl::CivilDay(2024, 3, 31), 24},
  };
  for (const Day& d : days) {
    ExpectRealHours("@hourly", d.tz, d.day, d.hours, absl::Hours(1));
    ExpectRealHours("*/5 * * * *", d.tz, d.day, d.hours * 12, absl::Minutes(5));
  }
}

// Random expressions and zones around DST changes: ticks strictly increase, Next and Prev invert
// each other, and probes between ticks land on the surrounding ticks.
TEST(ScheduleTest, RandomExpressionsAreConsistent) {
  const std::vector<std::vector<std::string>> parts = {
      {"*", "*/5", "0", "26", "0,30", "*/7", "15-45/10", "*/60"},
      {"*", "*/2", "*/5", "3", "2", "1-5", "0-23", "1"},
      {"*", "1", "L", "*/2", "13", "1-31", "15,L"},
      {"*", "*/3", "3", "3,10", "10,11"},
      {"*", "FRI", "1-5", "MON#1", "0", "SUN#5", "0-6"}};
  const std::vector<std::string> zones = {"America/New_York", "Europe/Berlin",    "Europe/London",
                                          "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu",
                                          "UTC"};
  std::mt19937 rng(13);
  auto pick = [&rng](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const absl::Time base = At("2023-01-01T00:00:00Z");
  for (int iter = 0; iter < 300; ++iter) {
    std::string expr;
    for (const auto& p : parts) expr += (expr.empty() ? "" : " ") + pick(p);
    std::string tz = pick(zones);
    auto parsed = Schedule::Parse(expr, tz);
    ASSERT_TRUE(parsed.ok()) << expr << ": " << parsed.status();
    const Schedule& s = *parsed;
    // The same fields without DST: a tick's local civil time must be one of its ticks.
    Schedule civil = MustParse(expr, "UTC");
    auto matches_fields = [&](absl::Time tick) {
      absl::Time local = absl::FromCivil(s.zone().At(tick).cs, absl::UTCTimeZone());
      return civil.IsTick(local);
    };
    auto is_gap_end = [&](absl::Time tick) {  // the documented fixed-hour gap rule
      return s.zone().At(tick - absl::Seconds(1)).offset != s.zone().At(tick).offset;
    };
    absl::Time t = base + absl::Minutes(std::uniform_int_distribution<int>(0, 4 * 365 * 1440)(rng));
    absl::TimeZone::CivilTransition tr;
    if (iter % 4 != 0 && s.zone().NextTransition(t, &tr)) {
      // Mostly start just before a DST change, at a random minute within 3 hours of it.
      t = s.zone().At(tr.to).trans -
          absl::Minutes(std::uniform_int_distribution<int>(0, 180)(rng));
    }
    absl::Time prev = s.Next(t);
    for (int i = 0; i < 40 && prev != absl::InfiniteFuture(); ++i) {
      absl::Time next = s.Next(prev);
      if (next == absl::InfiniteFuture()) break;
      ASSERT_GT(next, prev) << expr << " in " << tz;
      ASSERT_EQ(s.Prev(next), prev) << expr << " in " << tz << " at " << Fmt(next, s.zone());
      ASSERT_TRUE(s.IsTick(next)) << expr << " in " << tz;
      ASSERT_EQ(absl::ToUnixSeconds(next) % 60, 0) << expr << " in " << tz;
      EXPECT_TRUE(matches_fields(next) || is_gap_end(next))
          << expr << " in " << tz << " at " << Fmt(next, s.zone());
      // A probe strictly between two ticks.
      absl::Time x = prev + (next - prev) / 2 + absl::Seconds(1);
      if (x < next) {
        EXPECT_EQ(s.Next(x), next) << expr << " in " << tz << " at " << Fmt(x, s.zone());
        EXPECT_EQ(s.Prev(x), prev) << expr << " in " << tz << " at " << Fmt(x, s.zone());
        EXPECT_FALSE(s.IsTick(x));
      }
      prev = next;
    }
  }
}

TEST(ScheduleTest, RefusedFormsNameTheFieldAndWhy) {
  struct Bad {
    std::string expr;
    std::string message;
  };
  std::vector<Bad> cases = {
      {"0 0 ? * *", "field 3 (day-of-month): '?' is not supported (use '*')"},
      {"0 0 15W * *",
       "field 3 (day-of-month): '15W' is not supported: 'W' (nearest weekday) is not implemented"},
      {"0 0 L-2 * *",
       "field 3 (day-of-month): 'L-2' is not supported: only a plain 'L' (last day of the month) "
       "is allowed"},
      {"0 0 * * 5L",
       "field 5 (day-of-week): '5L' is not supported: 'L' (last weekday of the month) is not "
       "implemented; day-of-month accepts 'L'"},
      {"0 L * * *", "field 2 (hour): 'L' is not supported: 'L' is only allowed in day-of-month"},
      {"0 0 1#2 * *",
       "field 3 (day-of-month): '1#2' is not supported: '#' (Nth weekday) is only allowed in "
       "day-of-week"},
      {"0 0 * * MON#6",
       "field 5 (day-of-week): 'MON#6': N in DAY#N must be 1-5 (a month has at most 5)"},
      {"0 0 * * MON-FRI#2",
       "field 5 (day-of-week): 'MON-FRI#2': DAY#N takes a single day, not a range or step"},
      {"0 0 * * FOO#1", "field 5 (day-of-week): 'FOO' is not a number or a name"},
  };
  for (const auto& c : cases) {
    auto s = Schedule::Parse(c.expr, "UTC");
    ASSERT_FALSE(s.ok()) << c.expr;
    EXPECT_EQ(s.status().message(), c.message) << c.expr;
  }
}

TEST(ScheduleTest, EitherRuleAndNextDays) {
  EXPECT_TRUE(MustParse("0 0 13 * FRI").UsesEitherDayRule());
  EXPECT_TRUE(MustParse("0 6 */2 * 0").UsesEitherDayRule());
  EXPECT_FALSE(MustParse("0 0 13 * *").UsesEitherDayRule());
  EXPECT_FALSE(MustParse("0 0 1-31 * FRI").UsesEitherDayRule());
  EXPECT_FALSE(MustParse("0 0 13 * 1-7").UsesEitherDayRule());
  // Several ticks on one day count once.
  Schedule s = MustParse("0 */12 13 * FRI");
  EXPECT_THAT(s.NextDays(At("2024-09-01T00:00:00Z"), 3),
              ElementsAreArray({absl::CivilDay(2024, 9, 6), absl::CivilDay(2024, 9, 13),
                                absl::CivilDay(2024, 9, 20)}));
}

TEST(ScheduleTest, ParseErrorsNameTheField) {
  struct Bad {
    std::string expr;
    std::string message;
  };
  std::vector<Bad> cases = {
      {"0 25 * * *", "field 2 (hour): 25 is out of range 0-23"},
      {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
      {"0 0 0 * *", "field 3 (day-of-month): 0 is out of range 1-31"},
      {"0 0 * 13 *", "field 4 (month): 13 is out of range 1-12"},
      {"0 0 * * 8", "field 5 (day-of-week): 8 is out of range 0-7"},
      {"0 0 * FOO *", "field 4 (month): 'FOO' is not a number or a name"},
      {"x 0 * * *", "field 1 (minute): 'x' is not a number"},
      {"*/0 * * * *", "field 1 (minute): step '0' must be a positive number"},
      {"10-5 * * * *", "field 1 (minute): range '10-5' goes backwards"},
      {"0 0 1,,2 * *", "field 3 (day-of-month): empty list element in '1,,2'"},
      {"0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
      {"@fortnightly",
       "unknown macro '@fortnightly' (use @hourly, @daily, @midnight, @weekly, @monthly, "
       "@quarterly, @yearly, @annually or @every DURATION)"},
      {"0 0 30 2 *", "field 3 (day-of-month): no selected day exists in any selected month"},
  };
  for (const auto& c : cases) {
    auto s = Schedule::Parse(c.expr, "UTC");
    ASSERT_FALSE(s.ok()) << c.expr;
    EXPECT_EQ(s.status().message(), c.message) << c.expr;
  }
  auto tz = Schedule::Parse("@daily", "Mars/Olympus_Mons");
  ASSERT_FALSE(tz.ok());
  EXPECT_EQ(tz.status().message(), "unknown time zone 'Mars/Olympus_Mons'");
}

TEST(ScheduleTest, ImpossibleDomIsFineWhenDowCanMatch) {
  // Both restricted -> OR rule: Fridays still match.
  Schedule s = MustParse("0 0 30 2 FRI");
  EXPECT_EQ(Fmt(s.Next(At("2024-02-01T00:00:00Z")), s.zone()), "2024-02-02T00:00:00+00:00");
}

TEST(ScheduleTest, ExprAndZoneAreKept) {
  Schedule s = MustParse("@daily", "Europe/Berlin");
  EXPECT_EQ(s.expr(), "@daily");
  EXPECT_EQ(s.zone().name(), "Europe/Berlin");
}

TEST(ScheduleTest, YearlyScanIsFastOverCenturies) {
  // Walks 300 yearly and 75 leap-day ticks; minute-by-minute iteration would take minutes.
  Schedule yearly = MustParse("@yearly");
  absl::Time t = At("2000-06-01T00:00:00Z");
  for (int i = 0; i < 300; ++i) t = yearly.Next(t);
  EXPECT_EQ(Fmt(t, yearly.zone()), "2300-01-01T00:00:00+00:00");
  for (int i = 0; i < 300; ++i) t = yearly.Prev(t);
  EXPECT_EQ(Fmt(t, yearly.zone()), "2000-01-01T00:00:00+00:00");
  Schedule leap = MustParse("0 0 29 2 *");
  t = At("2000-03-01T00:00:00Z");
  for (int i = 0; i < 75; ++i) t = leap.Next(t);
  EXPECT_EQ(Fmt(t, leap.zone()), "2312-02-29T00:00:00+00:00");  // 2100, 2200, 2300 skipped
}

TEST(ScheduleTest, IntervalHelpers) {
  Schedule s = MustParse("0 3 * * *");
  // At a tick: the interval starting there.
  EXPECT_EQ(s.FirstIntervalAtOrAfter(At("2024-01-01T03:00:00Z")),
            (DataInterval{At("2024-01-01T03:00:00Z"), At("2024-01-02T03:00:00Z")}));
  // Between ticks: the next one.
  EXPECT_EQ(s.FirstIntervalAtOrAfter(At("2024-01-01T00:00:00Z")),
            (DataInterval{At("2024-01-01T03:00:00Z"), At("2024-01-02T03:00:00Z")}));
  EXPECT_EQ(s.IntervalStartingAt(At("2024-01-31T03:00:00Z")),
            (DataInterval{At("2024-01-31T03:00:00Z"), At("2024-02-01T03:00:00Z")}));

  absl::Time start = At("2024-01-01T00:00:00Z");
  // Not a full interval since the start yet.
  EXPECT_EQ(s.LatestCompleteInterval(At("2024-01-02T02:59:59Z"), start), std::nullopt);
  // Ends exactly now: complete.
  EXPECT_EQ(s.LatestCompleteInterval(At("2024-01-02T03:00:00Z"), start),
            (DataInterval{At("2024-01-01T03:00:00Z"), At("2024-01-02T03:00:00Z")}));
  EXPECT_EQ(s.LatestCompleteInterval(At("2024-01-05T12:00:00Z"), start),
            (DataInterval{At("2024-01-04T03:00:00Z"), At("2024-01-05T03:00:00Z")}));
  // not_before later than the latest complete start.
  EXPECT_EQ(s.LatestCompleteInterval(At("2024-01-05T12:00:00Z"), At("2024-01-04T03:00:01Z")),
            std::nullopt);

  Schedule monthly = MustParse("@monthly", "America/New_York");
  EXPECT_EQ(monthly.LatestCompleteInterval(At("2024-03-15T00:00:00Z"), absl::InfinitePast()),
            (DataInterval{At("2024-02-01T00:00:00-05:00"), At("2024-03-01T00:00:00-05:00")}));
}

TEST(ScheduleTest, IsTickIgnoresNonMinuteInstants) {
  Schedule s = MustParse("* * * * *");
  EXPECT_TRUE(s.IsTick(At("2024-01-01T00:01:00Z")));
  EXPECT_FALSE(s.IsTick(At("2024-01-01T00:01:00Z") + absl::Milliseconds(1)));
  EXPECT_EQ(s.Next(At("2024-01-01T00:01:00Z") + absl::Milliseconds(1)), At("2024-01-01T00:02:00Z"));
  EXPECT_EQ(s.Prev(At("2024-01-01T00:01:00Z") + absl::Milliseconds(1)), At("2024-01-01T00:01:00Z"));
}

}  // namespace
}  // namespace de::dag
