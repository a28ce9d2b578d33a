// Schedules: 5-field cron or @hourly/@daily/@weekly/@monthly/@yearly, in an IANA time zone.
// Immutable after Parse; thread-safe.
//
// A schedule is a set of "ticks" (instants). Data intervals are [tick_i, tick_{i+1}).
// DST: cron fields are matched against local civil time in the zone. A local time that does not
// exist (spring-forward gap) fires at the instant the gap ends; a local time that occurs twice
// (fall-back) fires once, at its first occurrence. So no interval is skipped or doubled.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace de::dag {

struct DataInterval {
  absl::Time start;
  absl::Time end;
  bool operator==(const DataInterval&) const = default;
};

class Schedule {
 public:
  // Parses `expr` ("0 3 * * *", "*/15 9-17 * * MON-FRI", "@daily", ...) in zone `timezone`.
  // Errors say which field is wrong and why ("field 2 (hour): 25 is out of range 0-23").
  static absl::StatusOr<Schedule> Parse(std::string_view expr, std::string_view timezone);

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

  const std::string& expr() const { return expr_; }
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
};

}  // namespace de::dag
