// Schedules in the scheduler: catchup across DST, @every, and what a backfill's range means
// (a date --to, start_date/end_date, intervals not ended yet, dry runs, cancelled counts).
#include <set>

#include "absl/strings/match.h"
#include "tests/unit/server/time_fixture.h"

namespace de::sched {
namespace {

using TimeSchedulesTest = TimeSemanticsTest;

std::string Local(int64_t ms, const std::string& tz) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(tz, &zone));
  return absl::FormatTime("%Y-%m-%d %H:%M%Ez", absl::FromUnixMillis(ms), zone);
}

// Catchup of an hourly DAG over a DST weekend creates each real hour once: 24 + 25 runs for the
// autumn weekend in London, 23 for the spring Sunday in New York, each interval one real hour.
TEST_F(TimeSchedulesTest, HourlyCatchupOverADstWeekendCreatesExactlyTheRealHours) {
  struct Weekend {
    std::string tz;
    std::string start_date;
    absl::Time now;
    std::vector<std::pair<std::string, int>> runs_per_local_day;
  };
  const std::vector<Weekend> weekends = {
      {"Europe/London", "2024-10-26", Day(2024, 10, 28), {{"2024-10-26", 24}, {"2024-10-27", 25}}},
      {"America/New_York", "2024-03-09", Day(2024, 3, 11, 4), {{"2024-03-09", 24}, {"2024-03-10", 23}}},
  };
  for (const Weekend& w : weekends) {
    scheduler_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    clock_.Set(w.now);
    Open();
    Connect();
    Submit(absl::StrCat("dag: hourly\nschedule: \"@hourly\"\ntimezone: ", w.tz,
                        "\nstart_date: ", w.start_date,
                        "\nmax_active_runs: 100\ntasks:\n  - { id: t, type: noop }\n"));
    Drain();
    std::vector<v1::Run> runs = Runs("hourly");
    std::map<std::string, int> per_day;
    std::set<int64_t> starts;
    std::set<std::string> ids;
    absl::TimeZone zone;
    ASSERT_TRUE(absl::LoadTimeZone(w.tz, &zone));
    for (size_t i = 0; i < runs.size(); ++i) {
      const v1::Run& r = runs[i];
      EXPECT_EQ(r.state(), "success");
      EXPECT_EQ(r.data_interval_end_ms() - r.data_interval_start_ms(), 3600000)
          << w.tz << " " << Local(r.logical_date_ms(), w.tz);
      if (i > 0) EXPECT_EQ(r.data_interval_start_ms(), runs[i - 1].data_interval_end_ms());
      starts.insert(r.logical_date_ms());
      ids.insert(r.run_id());
      EXPECT_TRUE(absl::StartsWith(r.run_id(), "hourly__scheduled__")) << r.run_id();
      per_day[absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(r.logical_date_ms()), zone)]++;
    }
    EXPECT_EQ(starts.size(), runs.size()) << w.tz;   // once each
    EXPECT_EQ(ids.size(), runs.size()) << w.tz;
    for (const auto& [day, n] : w.runs_per_local_day) EXPECT_EQ(per_day[day], n) << w.tz << " " << day;
  }
}

// @every 90m counts from start_date in absolute time: catchup, a backfill, and a downstream
// wait_for over its intervals all use the same grid.
TEST_F(TimeSchedulesTest, EveryScheduleCatchupBackfillAndWaits) {
  clock_.Set(Day(2024, 1, 1, 9, 10));
  Open();
  Connect();
  Submit("dag: every\nschedule: \"@every 90m\"\nstart_date: 2024-01-01T00:00:00Z\n"
         "catchup: true\ntasks:\n  - { id: t, type: noop }\n");
  Drain();
  std::vector<std::string> got;
  for (const auto& r : Runs("every")) {
    got.push_back(absl::FormatTime("%H:%M", absl::FromUnixMillis(r.logical_date_ms()),
                                   absl::UTCTimeZone()));
    EXPECT_EQ(r.data_interval_end_ms() - r.data_interval_start_ms(), 90 * 60000);
  }
  EXPECT_EQ(absl::StrJoin(got, ","), "00:00,01:30,03:00,04:30,06:00,07:30");
  EXPECT_EQ(Runs("every")[1].run_id(), "every__scheduled__20240101T013000Z");

  // A downstream daily-ish DAG waiting on the 90-minute intervals of its window.
  Submit("dag: down\nschedule: \"@every 3h\"\nstart_date: 2024-01-01T00:00:00Z\ncatchup: true\n"
         "wait_for: [{dag: every, window: interval}]\ntasks:\n  - { id: t, type: noop }\n");
  Drain();
  EXPECT_EQ(Dates("down", "success"), "2024-01-01,2024-01-01,2024-01-01");   // 00, 03, 06

  // Backfill a rerun of the first three intervals.
  v1::CreateBackfillRequest req;
  req.set_dag_id("every");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 1, 3)));
  req.set_rerun("all");
  req.set_dry_run(true);
  auto dry = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->rerun_dates_ms_size(), 3);
  EXPECT_EQ(dry->logical_dates_ms_size(), 0);
}

// A date --to includes that whole day in the DAG's time zone: a `0 3 * * *` Berlin DAG backfilled
// 2024-01-01..2024-01-31 gets 31 runs, the last at 03:00 Berlin on the 31st.
TEST_F(TimeSchedulesTest, DateToIncludesTheWholeDayInTheDagsZone) {
  clock_.Set(Day(2024, 3, 1));
  Open();
  Connect();
  Submit("dag: berlin\nschedule: \"0 3 * * *\"\ntimezone: Europe/Berlin\nstart_date: 2024-01-01\n"
         "catchup: false\ntasks:\n  - { id: t, type: noop }\n");
  Drain();
  v1::CreateBackfillRequest req;
  req.set_dag_id("berlin");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 31)));
  req.set_from_is_date(true);
  req.set_to_is_date(true);
  req.set_dry_run(true);
  auto dry = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(dry.ok()) << dry.status();
  ASSERT_EQ(dry->logical_dates_ms_size(), 31);
  EXPECT_EQ(Local(dry->logical_dates_ms(0), "Europe/Berlin"), "2024-01-01 03:00+01:00");
  EXPECT_EQ(Local(dry->logical_dates_ms(30), "Europe/Berlin"), "2024-01-31 03:00+01:00");
  // The same instants as timestamps (not dates) keep their exact meaning: --to 2024-01-31T00:00Z
  // comes before that day's 03:00 Berlin tick, so the 31st is not included.
  req.set_from_is_date(false);
  req.set_to_is_date(false);
  auto exact = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->logical_dates_ms_size(), 30);
}

TEST_F(TimeSchedulesTest, BackfillKeepsInsideStartAndEndDateAndRefusesOpenIntervals) {
  clock_.Set(Day(2024, 1, 10, 1));
  Open();
  Connect();
  Submit(Daily("catchup: false\nend_date: 2024-01-20"));
  Drain();
  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2023, 12, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 5)));
  req.set_to_is_date(true);
  req.set_from_is_date(true);
  req.set_dry_run(true);
  auto dry = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->total(), 5);   // from start_date 2024-01-01, not December
  EXPECT_EQ(Date(dry->logical_dates_ms(0)), "2024-01-01");

  // 2024-01-10 has not ended at 01:00 on the 10th: refused, naming it.
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 12)));
  auto open = scheduler_->CreateBackfill(req);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(open.status().message(),
                                "the interval with logical date 2024-01-10 00:00 UTC"))
      << open.status();
  EXPECT_TRUE(absl::StrContains(open.status().message(), "has not ended yet")) << open.status();
  EXPECT_EQ(Dates("daily"), "2024-01-09");   // nothing created

  // Wholly after end_date: nothing to do, said so.
  clock_.Set(Day(2024, 3, 1));
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 2, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 2, 5)));
  auto after = scheduler_->CreateBackfill(req);
  ASSERT_FALSE(after.ok());
  EXPECT_TRUE(absl::StrContains(after.status().message(), "start_date..end_date"))
      << after.status();
}

// A range wholly outside start_date..end_date is refused naming the range as given and the
// bound it misses, in the DAG's zone (and UTC).
TEST_F(TimeSchedulesTest, BackfillOutsideStartOrEndDateSaysWhichBound) {
  clock_.Set(Day(2024, 3, 1));
  Open();
  Connect();
  Submit(Daily("catchup: false\nend_date: 2024-01-20"));
  Submit("dag: berlin\nschedule: \"0 3 * * *\"\ntimezone: Europe/Berlin\nstart_date: 2024-01-10\n"
         "catchup: false\ntasks:\n  - { id: t, type: noop }\n");
  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2023, 12, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2023, 12, 31)));   // the whole day: up to 2024-01-01 00:00
  req.set_from_is_date(true);
  req.set_to_is_date(true);
  req.set_dry_run(true);
  auto before = scheduler_->CreateBackfill(req);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(before.status().message(),
            "backfill range 2023-12-01 .. 2023-12-31 holds no interval of daily's schedule "
            "'@daily': it ends before start_date 2024-01-01 00:00 UTC (a backfill stays inside "
            "start_date..end_date)");

  req.set_from_ms(absl::ToUnixMillis(Day(2024, 2, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 2, 5)));
  auto after = scheduler_->CreateBackfill(req);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().message(),
            "backfill range 2024-02-01 .. 2024-02-05 holds no interval of daily's schedule "
            "'@daily': it starts after end_date 2024-01-20 00:00 UTC (a backfill stays inside "
            "start_date..end_date)");

  req.set_dag_id("berlin");
  req.set_from_is_date(false);
  req.set_to_is_date(false);
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 9, 12)));
  auto berlin = scheduler_->CreateBackfill(req);
  ASSERT_FALSE(berlin.ok());
  EXPECT_EQ(berlin.status().message(),
            "backfill range 2024-01-01 01:00 Europe/Berlin (2024-01-01 00:00 UTC) .. 2024-01-09 "
            "13:00 Europe/Berlin (2024-01-09 12:00 UTC) holds no interval of berlin's schedule "
            "'0 3 * * *': it ends before start_date 2024-01-10 00:00 Europe/Berlin (2024-01-09 "
            "23:00 UTC) (a backfill stays inside start_date..end_date)");
}

TEST_F(TimeSchedulesTest, DryRunSeparatesCreateKeepRerunAndCancelledCountsAddUp) {
  clock_.Set(Day(2024, 1, 6, 1));
  Open();
  Connect();
  Submit(Daily("catchup: true"));
  // Jan 1..5 exist; Jan 2 failed.
  Drain([](const v1::Assignment& a) { return absl::StrContains(a.run_id(), "20240102"); });
  ASSERT_EQ(Dates("daily", "failed"), "2024-01-02");
  scheduler_->SetPaused("daily", true);
  clock_.Set(Day(2024, 1, 20));
  v1::CreateBackfillRequest req;
  req.set_dag_id("daily");
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 1)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 8)));
  req.set_rerun("failed");
  req.set_dry_run(true);
  auto dry = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(dry.ok()) << dry.status();
  auto dates = [](const auto& ms) {
    std::vector<std::string> out;
    for (int64_t t : ms) out.push_back(Date(t));
    return absl::StrJoin(out, ",");
  };
  EXPECT_EQ(dates(dry->logical_dates_ms()), "2024-01-06,2024-01-07,2024-01-08");
  EXPECT_EQ(dates(dry->keep_dates_ms()), "2024-01-01,2024-01-03,2024-01-04,2024-01-05");
  EXPECT_EQ(dates(dry->rerun_dates_ms()), "2024-01-02");

  // A cancelled backfill: its counts add up to its total.
  req.set_dry_run(false);
  req.set_max_active(1);
  req.set_from_ms(absl::ToUnixMillis(Day(2024, 1, 10)));
  req.set_to_ms(absl::ToUnixMillis(Day(2024, 1, 15)));
  auto b = scheduler_->CreateBackfill(req);
  ASSERT_TRUE(b.ok()) << b.status();
  auto c = scheduler_->CancelBackfill(b->backfill_id());
  ASSERT_TRUE(c.ok()) << c.status();
  int sum = 0;
  for (const auto& [state, n] : c->runs_by_state()) sum += n;
  EXPECT_EQ(sum, c->total());
  EXPECT_EQ(c->runs_by_state().at("cancelled"), 1);
  EXPECT_EQ(c->runs_by_state().at("not_created"), 5);
  EXPECT_EQ(c->runs_by_state().count("pending"), 0u);
}

}  // namespace
}  // namespace de::sched
