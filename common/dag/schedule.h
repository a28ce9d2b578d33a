// Schedules: 5-field cron or @hourly/@daily/@weekly/@monthly/@quarterly/@yearly, in an IANA time
// zone. Immutable after Parse; thread-safe.
//
// A schedule is a set of "ticks" (instants). Data intervals are [tick_i, tick_{i+1}).
// Cron fields are matched against local civil time in the zone. Beyond plain cron: 'L' in
// day-of-month is the month's last day; 'DAY#N' in day-of-week is the Nth such weekday of the
// month; a step larger than its range selects only the range start; a field selecting its full
// range (1-31, 0-6, 1-7) is unrestricted like '*'. When day-of-month and day-of-week are both
// restricted, a day matches if EITHER matches (cron's rule).
// DST, two rules:
//  - Hourly and sub-hourly schedules (hour field '*', '*/N' or 0-23) follow real time: a local time that occurs twice fires twice, a local time that
//    does not exist never fires.
//  - Fixed-hour schedules: a local time that does not exist (spring-forward gap) fires at the
//    instant the gap ends; a local time that occurs twice fires once, at its first occurrence.
// Either way intervals are contiguous in absolute time: none is skipped or doubled.
// `@every DURATION` (15m, 1h, 90m, 2h30m, 1d) is a fixed interval in absolute time counted from
// an anchor (the DAG's start_date): ticks are anchor + k * DURATION, k >= 0, whatever the zone
// (like Airflow's timedelta schedules); DST never changes its interval lengths.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace de::dag {

struct DataInterval {
  absl::Time start;
  absl::Time end;
  bool operator==(const DataInterval&) const = default;
};

// The DURATION of `@every DURATION`: one or more NUMBER UNIT parts, units d h m s ("15m",
// "2h30m", "1d"); at least one minute. Errors say what is wrong.
absl::StatusOr<absl::Duration> ParseEveryInterval(const std::string& text);

class Schedule {
 public:
  // Parses `expr` ("0 3 * * *", "*/15 9-17 * * MON-FRI", "@daily", ...) in zone `timezone`.
  // Errors say which field is wrong and why ("field 2 (hour): 25 is out of range 0-23").
  // `anchor` is where `@every` intervals are counted from (the DAG's start_date); `@every` without
  // one is an error. Cron expressions ignore it.
  static absl::StatusOr<Schedule> Parse(std::string_view expr, std::string_view timezone,
                                        std::optional<absl::Time> anchor = std::nullopt);

  // First tick strictly after t.
  absl::Time Next(absl::Time t) const;
  // Last tick strictly before t.
  absl::Time Prev(absl::Time t) const;
  // True if t is exactly a tick.
  bool IsTick(absl::Time t) const;

  // The first data interval whose start is >= t.
  DataInterval FirstIntervalAtOrAfter(absl::Time t) const;
  // The interval that starts at tick `start` (start must be a tick).
  DataInterval IntervalStartingAt(absl::Time start) const;
  // The latest interval that has ended at or before `now` (end <= now), whose start >= not_before;
  // nullopt if none.
  std::optional<DataInterval> LatestCompleteInterval(absl::Time now, absl::Time not_before) const;

  // True when day-of-month and day-of-week are both restricted (cron's "either" rule applies).
  bool UsesEitherDayRule() const { return dom_restricted_ && dow_restricted_; }
  // The local days of the first `n` ticks strictly after `from` (each day once).
  std::vector<absl::CivilDay> NextDays(absl::Time from, int n) const;

  // When the "either" rule applies: a warning naming it, with the next `n` days (from `from`) it
  // yields, e.g. "... next days: 2024-09-06 Fri, 2024-09-13 Fri, ..."; nullopt otherwise.
  std::optional<std::string> EitherRuleWarning(absl::Time from, int n = 5) const;

  const std::string& expr() const { return expr_; }
  // The fixed interval of an `@every` schedule; zero for cron schedules.
  absl::Duration every() const { return every_; }
  absl::TimeZone zone() const { return zone_; }

 private:
  Schedule() = default;
  std::string expr_;
  absl::TimeZone zone_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;   // 1..31
  std::bitset<13> months_;          // 1..12
  std::bitset<7> days_of_week_;     // 0 = Sunday
  bool dom_restricted_ = false;     // cron's rule: if both dom and dow are restricted, either matches
  bool dow_restricted_ = false;
  bool last_dom_ = false;           // 'L' in day-of-month
  std::bitset<35> nth_dow_;         // DAY#N: bit dow * 5 + (N - 1)
  bool real_time_ = false;          // hour field '*' or '*/N' (or every hour): DST follows real time
  absl::Duration every_;            // @every: ticks are anchor_ + k * every_ (k >= 0)
  absl::Time anchor_;

  // `expr` is "@every DURATION": sets every_ and anchor_ (schedule_every.cc).
  absl::Status SetEvery(std::string_view expr, std::optional<absl::Time> anchor);
  // True when a selected day of the month exists in a selected month (30 in February does not).
  bool SomeDayOfMonthExists() const;
  absl::Time NextRealTime(absl::Time t) const;
  absl::Time NextEvery(absl::Time t) const;   // schedule_every.cc
  absl::Time PrevEvery(absl::Time t) const;
  absl::Time PrevRealTime(absl::Time t) const;
};

}  // namespace de::dag
