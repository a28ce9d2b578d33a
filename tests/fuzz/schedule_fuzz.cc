// libFuzzer target for the schedule parser (common/dag/schedule.h): 5-field cron, @daily & co,
// @every, in a few time zones (with DST, half-hour offsets, UTC). Input: byte 0 picks the zone,
// bytes 1-8 an instant (between 1900 and 2200) used as the reference time and as the @every
// anchor; the rest is the expression. Checks that nothing crashes or hangs, that a parse either
// fails with a message or gives a schedule whose ticks obey the documented contracts:
// Next(t) > t, Prev(t) < t, a finite Next is a tick, Prev(Next(t)) <= t, intervals are non-empty
// and start at a tick, and the next days are strictly increasing.
// Run with tests/fuzz/run_fuzz.sh schedule [SECONDS] (DE_BUILD_FUZZ=ON, clang).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/dag/schedule.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Finite(absl::Time t) { return t != absl::InfiniteFuture() && t != absl::InfinitePast(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  static constexpr const char* kZones[] = {"UTC", "Europe/Berlin", "America/New_York",
                                           "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia",
                                           "America/Santiago", "Europe/London"};
  const std::string zone = kZones[data[0] % 8];
  uint64_t raw = 0;
  memcpy(&raw, data + 1, 8);
  // Seconds from 1900-01-01 to 2200-01-01 (about 9.47e9).
  const int64_t span = 9467280000;
  const absl::Time t = absl::FromUnixSeconds(-2208988800 + static_cast<int64_t>(raw % span));
  std::string_view expr(reinterpret_cast<const char*>(data) + 9, size - 9);
  auto s = de::dag::Schedule::Parse(expr, zone, t);
  if (!s.ok()) {
    Check(!s.status().message().empty());
    return 0;
  }
  const absl::Time next = s->Next(t);
  const absl::Time prev = s->Prev(t);
  Check(next > t);
  Check(prev < t);
  if (Finite(next)) {
    Check(s->IsTick(next));
    Check(s->Prev(next) <= t);
    const de::dag::DataInterval iv = s->IntervalStartingAt(next);
    Check(iv.start == next && iv.end > iv.start);
  }
  if (Finite(prev)) Check(s->IsTick(prev));
  const de::dag::DataInterval first = s->FirstIntervalAtOrAfter(t);
  if (Finite(first.start)) Check(first.start >= t && first.end > first.start);
  if (auto last = s->LatestCompleteInterval(t, t - absl::Hours(24 * 400)); last) {
    Check(last->end <= t && last->start < last->end);
  }
  const auto days = s->NextDays(t, 5);
  for (size_t i = 1; i < days.size(); ++i) Check(days[i - 1] < days[i]);
  (void)s->EitherRuleWarning(t);
  return 0;
}
