#include "cli/next_runs.h"

#include "absl/strings/str_cat.h"
#include "cli/format.h"
#include "common/dag/schedule.h"

namespace de::cli {

std::string FormatLocal(absl::Time t, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Ez", t, tz);
}

namespace {

std::string Utc(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone()); }

}  // namespace

void PrintNextIntervals(const dag::DagSpec& spec, absl::Time now, std::optional<absl::Time> first,
                        int n, std::ostream& out) {
  if (spec.schedule.empty()) {
    out << "next runs: none (manual only)\n";
    return;
  }
  auto schedule = dag::Schedule::Parse(spec.schedule, spec.timezone, spec.start_date);
  if (!schedule.ok()) {
    out << "next runs: schedule not usable: " << schedule.status().message() << "\n";
    return;
  }
  const absl::Time start_date = spec.start_date.value_or(absl::InfinitePast());
  absl::Time t;
  if (first) {
    t = schedule->IsTick(*first) ? *first : schedule->Next(*first);
  } else {
    t = schedule->IsTick(now) ? now : schedule->Prev(now);   // the interval containing now
    if (t == absl::InfinitePast() || t < start_date) {
      t = schedule->FirstIntervalAtOrAfter(start_date).start;
    }
  }
  const absl::TimeZone tz = schedule->zone();
  const std::string zone = tz.name();
  Table table({"#", absl::StrCat("LOGICAL DATE (", zone, ")"), "LOGICAL DATE (UTC)",
               absl::StrCat("CREATED AT (", zone, ")"), "CREATED AT (UTC)", "LENGTH"});
  for (int i = 0; i < n && t != absl::InfiniteFuture(); ++i) {
    if (spec.end_date && t > *spec.end_date) break;
    const dag::DataInterval iv = schedule->IntervalStartingAt(t);
    table.AddRow({absl::StrCat(i + 1), FormatLocal(iv.start, tz), Utc(iv.start),
                  FormatLocal(iv.end, tz), Utc(iv.end),
                  FormatDuration(absl::ToInt64Milliseconds(iv.end - iv.start))});
    t = iv.end;
  }
  out << "next runs (a run is created when its interval ends):\n";
  if (table.rows() == 0) {
    out << "  none: the schedule is past its end_date\n";
    return;
  }
  table.Print(out);
}

}  // namespace de::cli
