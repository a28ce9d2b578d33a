// Helpers shared by the schedule tests (schedule_test.cc, schedule_every_test.cc).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/dag/schedule.h"
#include "gtest/gtest.h"

namespace de::dag {

// An RFC 3339 instant ("2024-01-01T00:00:00Z").
inline absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << rfc3339 << ": " << err;
  return t;
}

inline std::string Fmt(absl::Time t, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz);
}

// Checks Next/Prev/IsTick against an explicit list of consecutive ticks, probing every
// `step` between the first and the last.
inline void CheckConsistent(const Schedule& s, const std::vector<absl::Time>& ticks,
                            absl::Duration step) {
  for (size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_TRUE(s.IsTick(ticks[i])) << Fmt(ticks[i], s.zone());
    if (i + 1 < ticks.size()) {
      EXPECT_EQ(s.Next(ticks[i]), ticks[i + 1]);
      EXPECT_EQ(s.Prev(ticks[i + 1]), ticks[i]);
    }
  }
  size_t i = 0;
  for (absl::Time x = ticks.front() + step; x < ticks.back(); x += step) {
    while (ticks[i + 1] <= x) ++i;
    // ticks[i] <= x < ticks[i+1]
    bool tick = ticks[i] == x;
    EXPECT_EQ(s.IsTick(x), tick) << Fmt(x, s.zone());
    EXPECT_EQ(s.Next(x), ticks[i + 1]) << "Next(" << Fmt(x, s.zone()) << ")";
    absl::Time want_prev = tick ? ticks[i - 1] : ticks[i];
    EXPECT_EQ(s.Prev(x), want_prev) << "Prev(" << Fmt(x, s.zone()) << ")";
    if (!tick) {
      EXPECT_EQ(s.Next(s.Prev(x)), ticks[i + 1]) << Fmt(x, s.zone());
    }
  }
}

}  // namespace de::dag
