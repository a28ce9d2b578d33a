// The logical date and interval of `dectl dag test` / `dag render`: --date forms, the default,
// end_date, time zones, and the note for a date that is no tick.
#include "cli/local_dates.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/dag/loader.h"

namespace de::cli {
namespace {

dag::DagSpec Load(const std::string& head) {
  dag::LoadResult r = dag::LoadDag(head + "tasks:\n  - { id: a, type: noop }\n", "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.errors.front().ToString());
  return *r.dag;
}

absl::Time At(const std::string& iso) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, iso, &t, &err)) << err;
  return t;
}

TEST(LocalDates, DefaultIsTheLatestCompleteIntervalWithinEndDate) {
  dag::DagSpec daily = Load("dag: d\nschedule: '@daily'\nstart_date: 2024-01-01\n");
  auto d = PickLocalRunDate(daily, "", At("2024-03-10T15:00:00Z"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->logical, At("2024-03-09T00:00:00Z"));
  EXPECT_EQ(d->interval.end, At("2024-03-10T00:00:00Z"));

  dag::DagSpec ended =
      Load("dag: d\nschedule: '@daily'\nstart_date: 2024-01-01\nend_date: 2024-01-31\n");
  d = PickLocalRunDate(ended, "", At("2026-12-03T05:00:00Z"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->logical, At("2024-01-31T00:00:00Z"));
  EXPECT_EQ(d->interval.end, At("2024-02-01T00:00:00Z"));
}

TEST(LocalDates, ManualDagDefaultsToTodayWithAnEmptyInterval) {
  dag::DagSpec manual = Load("dag: m\ntimezone: Europe/Berlin\n");
  auto d = PickLocalRunDate(manual, "", At("2024-06-10T23:30:00Z"));   // 01:30 on the 11th there
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->logical, At("2024-06-10T22:00:00Z"));
  EXPECT_EQ(d->interval.start, d->interval.end);
  EXPECT_TRUE(absl::StrContains(d->note, "today")) << d->note;
}

TEST(LocalDates, ADateIsThatDaysFirstTickInTheDagsZone) {
  dag::DagSpec three = Load("dag: d\nschedule: '0 3 * * *'\ntimezone: Europe/Berlin\n"
                            "start_date: 2024-01-01\n");
  auto d = PickLocalRunDate(three, "2024-01-05", absl::Now());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->logical, At("2024-01-05T02:00:00Z"));
  EXPECT_EQ(d->interval.end, At("2024-01-06T02:00:00Z"));
  EXPECT_TRUE(d->note.empty()) << d->note;

  // A timestamp is exact; off the schedule the interval is empty, and the note says so.
  d = PickLocalRunDate(three, "2024-01-05T10:00:00Z", absl::Now());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->logical, At("2024-01-05T10:00:00Z"));
  EXPECT_EQ(d->interval.start, d->interval.end);
  EXPECT_TRUE(absl::StrContains(d->note, "is not a tick of 0 3 * * *")) << d->note;
  EXPECT_TRUE(absl::StrContains(d->note, "2024-01-05T03:00:00+01:00")) << d->note;

  dag::DagSpec monthly = Load("dag: m\nschedule: '@monthly'\nstart_date: 2024-01-01\n");
  d = PickLocalRunDate(monthly, "2024-02-01", absl::Now());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->interval.start, At("2024-02-01T00:00:00Z"));
  EXPECT_EQ(d->interval.end, At("2024-03-01T00:00:00Z"));
}

TEST(LocalDates, BadDateIsAnError) {
  dag::DagSpec manual = Load("dag: m\n");
  auto d = PickLocalRunDate(manual, "yesterday", absl::Now());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "bad date 'yesterday'")) << d.status();
}

}  // namespace
}  // namespace de::cli
