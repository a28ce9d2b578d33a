// The DAG loader's time keys: `timezone`, `schedule` (cron, macros, @every: common/dag/
// schedule.h), `start_date` / `end_date` (dates and timestamps read in the DAG's zone), `catchup`,
// and the schedule's warning (cron's day-of-month/day-of-week "either" rule).
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/dag/loader_internal.h"
#include "common/dag/schedule.h"

namespace de::dag::loader_internal {

void Loader::ReadTimezone(const YAML::Node& root) {
  zone_ = absl::UTCTimeZone();
  if (YAML::Node tz = root["timezone"]; tz && !tz.IsNull()) {
    if (auto s = String(tz, "timezone")) {
      if (absl::LoadTimeZone(*s, &zone_)) {
        dag_.timezone = *s;
      } else {
        zone_ = absl::UTCTimeZone();
        Error(tz, absl::StrCat("unknown timezone '", *s, "'"));
      }
    }
  }
}

void Loader::ReadScheduleAndDates(const YAML::Node& root) {
  YAML::Node schedule = root["schedule"];
  if (schedule && !schedule.IsNull()) {
    if (auto s = String(schedule, "schedule"); s && !s->empty()) dag_.schedule = *s;
  }
  YAML::Node start = root["start_date"];
  if (start && !start.IsNull()) dag_.start_date = Date(start, "start_date");
  YAML::Node end = root["end_date"];
  if (end && !end.IsNull()) dag_.end_date = Date(end, "end_date");
  if (dag_.start_date && dag_.end_date && *dag_.end_date < *dag_.start_date) {
    Error(end, absl::StrCat("end_date ", end.Scalar(), " is before start_date ", start.Scalar()));
  }
  if (dag_.schedule.empty()) return;
  // Parsed once, after the dates: a missing start_date (which @every counts from) is its own
  // error below, so without one the syntax is checked from any anchor.
  auto parsed =
      Schedule::Parse(dag_.schedule, dag_.timezone, dag_.start_date.value_or(absl::UnixEpoch()));
  if (!parsed.ok()) {
    Error(schedule,
          absl::StrCat("invalid schedule '", dag_.schedule, "': ", parsed.status().message()));
  }
  if (!(start && !start.IsNull())) {
    Error(schedule,
          absl::StartsWithIgnoreCase(dag_.schedule, "@every")
              ? "a scheduled DAG needs start_date (@every intervals are counted from it)"
              : "a scheduled DAG needs start_date (the first data interval starts there)");
  }
  if (parsed.ok()) {
    const absl::Time from = std::max(dag_.start_date.value_or(absl::InfinitePast()), absl::Now());
    if (auto w = parsed->EitherRuleWarning(from - absl::Nanoseconds(1))) Warning(schedule, *w);
  }
}

void Loader::ReadCatchup(const YAML::Node& root) {
  if (YAML::Node c = root["catchup"]; c && !c.IsNull()) {
    if (auto b = Bool(c, "catchup")) dag_.catchup = *b;
  }
}

std::optional<absl::Time> Loader::Date(const YAML::Node& n, absl::string_view name) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    absl::CivilDay day;
    if (s.size() == 10 && absl::ParseCivilTime(s, &day) && absl::FormatCivilTime(day) == s) {
      absl::TimeZone::TimeInfo ti = zone_.At(absl::CivilSecond(day));
      return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
    }
    static const char* const kFormats[] = {"%Y-%m-%d%ET%H:%M:%E*S%Ez",
                                           "%Y-%m-%d%ET%H:%M:%E*S",
                                           "%Y-%m-%d%ET%H:%M%Ez",
                                           "%Y-%m-%d%ET%H:%M",
                                           "%Y-%m-%d %H:%M:%E*S%Ez",
                                           "%Y-%m-%d %H:%M:%E*S",
                                           "%Y-%m-%d %H:%M"};
    for (const char* f : kFormats) {
      absl::Time t;
      std::string err;
      if (absl::ParseTime(f, s, zone_, &t, &err)) return t;
    }
  }
  Error(n, absl::StrCat(name, ": invalid date '", n.IsScalar() ? n.Scalar() : "",
                        "' (expected YYYY-MM-DD or an ISO 8601 timestamp like "
                        "2024-01-01T00:00:00Z)"));
  return std::nullopt;
}

}  // namespace de::dag::loader_internal
