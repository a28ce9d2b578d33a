#include "server/sched/ticks.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"

namespace de::sched {

using common::ToMillis;

std::vector<int64_t> TicksIn(const dag::Schedule& schedule, absl::Time from, absl::Time to,
                             bool inclusive_end, size_t cap, bool* truncated) {
  std::vector<int64_t> out;
  *truncated = false;
  absl::Time t = schedule.IsTick(from) ? from : schedule.Next(from);
  while (inclusive_end ? t <= to : t < to) {
    if (out.size() >= cap) {
      *truncated = true;
      break;
    }
    out.push_back(ToMillis(t));
    t = schedule.Next(t);
  }
  return out;
}

std::string NewRunId(const std::string& dag_id, const std::string& type, absl::Time logical) {
  return absl::StrCat(dag_id, "__", type, "__",
                      absl::FormatTime("%Y%m%dT%H%M%SZ", logical, absl::UTCTimeZone()));
}

}  // namespace de::sched
