#include "cli/local_dates.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "cli/parse.h"
#include "server/sched/assignment.h"

namespace de::cli {
namespace {

std::string Iso(absl::Time t, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz);
}

// The latest complete interval's start, within start_date..end_date; nullopt when none.
std::optional<absl::Time> LatestLogicalDate(const dag::DagSpec& spec, const dag::Schedule& s,
                                            absl::Time now) {
  const absl::Time not_before = spec.start_date.value_or(absl::InfinitePast());
  auto latest = s.LatestCompleteInterval(now, not_before);
  if (!latest) return std::nullopt;
  absl::Time start = latest->start;
  if (spec.end_date && start > *spec.end_date) {
    // The schedule is over: its last interval (the last tick at or before end_date).
    start = s.IsTick(*spec.end_date) ? *spec.end_date : s.Prev(*spec.end_date);
    if (start < not_before) return std::nullopt;
  }
  return start;
}

}  // namespace

absl::StatusOr<LocalRunDate> PickLocalRunDate(const dag::DagSpec& spec, const std::string& raw,
                                              absl::Time now) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec.timezone, &tz)) tz = absl::UTCTimeZone();
  std::optional<dag::Schedule> schedule;
  if (!spec.schedule.empty()) {
    auto s = dag::Schedule::Parse(spec.schedule, spec.timezone, spec.start_date);
    if (!s.ok()) return s.status();   // the loader accepted it, so this does not happen
    schedule = *std::move(s);
  }
  LocalRunDate out;
  const std::string text(absl::StripAsciiWhitespace(raw));
  absl::CivilDay day;
  if (text.empty()) {
    std::optional<absl::Time> latest;
    if (schedule) latest = LatestLogicalDate(spec, *schedule, now);
    if (latest) {
      out.logical = *latest;
      out.note = absl::StrCat("logical date ", Iso(out.logical, tz),
                              ": the latest complete interval of ", spec.schedule, " (--date D for another)");
    } else {
      out.logical = absl::FromCivil(absl::CivilDay(absl::ToCivilDay(now, tz)), tz);
      out.note = absl::StrCat("logical date ", Iso(out.logical, tz), ": today",
                              schedule ? " (no complete interval of the schedule yet)" : "");
    }
  } else if (text.size() == 10 && absl::ParseCivilTime(text, &day)) {
    const absl::Time midnight = absl::FromCivil(day, tz);
    out.logical = midnight;
    if (schedule) {
      const absl::Time first = schedule->IsTick(midnight) ? midnight : schedule->Next(midnight);
      if (first < absl::FromCivil(day + 1, tz)) out.logical = first;
    }
  } else {
    auto ms = ParseDateMs(text);
    if (!ms.ok()) return ms.status();
    out.logical = absl::FromUnixMillis(*ms);
  }
  out.interval = sched::ManualRunInterval(schedule ? &*schedule : nullptr, out.logical);
  if (schedule && out.interval.start == out.interval.end) {
    const absl::Time prev = schedule->Prev(out.logical), next = schedule->Next(out.logical);
    out.note = absl::StrCat("note: ", Iso(out.logical, tz), " is not a tick of ", spec.schedule,
                            ", so the run's data interval is empty (as for dectl trigger); "
                            "the ticks around it: ", Iso(prev, tz), ", ", Iso(next, tz));
  }
  return out;
}

}  // namespace de::cli
