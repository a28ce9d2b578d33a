// End to end with real processes: `dectl backfill` of a daily DAG over 60 days while a monthly
// roll-up waits for every day of its month; all history ends up in SQLite.
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

int64_t Ms(int y, int m, int d) {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone()));
}

TEST(TimeE2E, BackfillSixtyDaysWhileMonthlyRollupsWaitForTheirMonths) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 4);
  c.StartWorker("w2", 4);
  // Daily at 03:00 UTC since 2024-01-01; no catchup (history comes from the backfill).
  c.Submit(absl::StrReplaceAll(R"yaml(
dag: flights_daily
schedule: "0 3 * * *"
start_date: 2024-01-01
catchup: false
tasks:
  - id: land
    type: shell
    with: { command: "echo {{ ds }} >> DATA/days" }
  - { id: daily_stats, type: noop, needs: [land] }
)yaml", {{"DATA", c.data("")}}));
  c.Submit(absl::StrReplaceAll(R"yaml(
dag: flights_monthly
schedule: "@monthly"
start_date: 2024-01-01
end_date: 2024-02-29
wait_for:
  - { dag: flights_daily, task: daily_stats, window: interval }
tasks:
  - id: rollup
    type: shell
    with: { command: "echo rollup {{ ds }} after $(wc -l < DATA/days) days" }
)yaml", {{"DATA", c.data("")}}));

  // Both monthly runs exist (catchup) and wait: nothing of January or February is in yet.
  v1::ListRunsRequest req;
  req.set_dag_id("flights_monthly");
  v1::ListRunsResponse monthly;
  ASSERT_TRUE(WaitUntil([&] {
    grpc::ClientContext ctx;
    monthly.Clear();
    return c.api().ListRuns(&ctx, req, &monthly).ok() && monthly.runs_size() == 2;
  }));
  for (const auto& r : monthly.runs()) {
    EXPECT_EQ(r.state(), "waiting") << r.run_id();
    v1::Run full = c.GetRun(r.run_id());
    ASSERT_EQ(full.waiting_on_size(), 1);
    EXPECT_TRUE(absl::StrContains(full.waiting_on(0), "flights_daily.daily_stats: 0 of"))
        << full.waiting_on(0);
  }

  std::string out;
  // What an operator sees for a waiting run: which intervals are still missing.
  for (const auto& r : monthly.runs()) {
    ASSERT_EQ(c.Dectl({"runs", "show", r.run_id()}, &out), 0) << out;
    EXPECT_TRUE(absl::StrContains(out, "waiting")) << out;
    EXPECT_TRUE(absl::StrContains(out, "intervals done; missing 2024-0")) << out;
  }
  // A date --to includes the whole day: January's 31 runs, the 31st's 03:00 included.
  ASSERT_EQ(c.Dectl({"backfill", "flights_daily", "--from", "2024-01-01", "--to", "2024-01-31",
                     "--dry-run"},
                    &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "would create 31 runs:\n  2024-01-01 03:00:00\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  2024-01-31 03:00:00\nwould keep 0 runs\n")) << out;
  // Intervals that have not ended are refused, naming the first.
  const std::string soon =
      absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 30), absl::UTCTimeZone());
  EXPECT_NE(c.Dectl({"backfill", "flights_daily", "--from", "2024-02-01", "--to", soon}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "has not ended yet")) << out;
  ASSERT_EQ(c.Dectl({"backfill", "flights_daily", "--from", "2024-01-01T03:00:00Z", "--to",
                     "2024-02-29T03:00:00Z", "--max-active", "8"},
                    &out),
            0)
      << out;
  // The backfill id is printed; follow it to the end.
  std::string backfill_id;
  for (const auto& word : absl::StrSplit(out, absl::ByAnyChar(" \n\t"))) {
    if (absl::StrContains(word, "__backfill__")) backfill_id = std::string(word);
  }
  ASSERT_FALSE(backfill_id.empty()) << out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        v1::GetBackfillRequest b;
        b.set_backfill_id(backfill_id);
        v1::Backfill resp;
        return c.api().GetBackfill(&ctx, b, &resp).ok() && resp.state() == "success";
      },
      absl::Seconds(120)))
      << c.Logs();
  ASSERT_EQ(c.Dectl({"backfill", "status", backfill_id}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "60")) << out;

  // The roll-ups finish, each after the last day of its month.
  v1::Run jan, feb;
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        monthly.Clear();
        if (!c.api().ListRuns(&ctx, req, &monthly).ok()) return false;
        for (const auto& r : monthly.runs()) {
          if (r.state() != "success") return false;
        }
        return true;
      },
      absl::Seconds(60)))
      << monthly.DebugString();
  for (const auto& r : monthly.runs()) {
    v1::Run full = c.GetRun(r.run_id());
    (full.logical_date_ms() == Ms(2024, 1, 1) ? jan : feb) = full;
  }
  ASSERT_EQ(jan.logical_date_ms(), Ms(2024, 1, 1));
  ASSERT_EQ(feb.logical_date_ms(), Ms(2024, 2, 1));

  v1::ListRunsRequest dreq;
  dreq.set_dag_id("flights_daily");
  dreq.set_limit(1000);
  grpc::ClientContext ctx;
  v1::ListRunsResponse daily;
  ASSERT_TRUE(c.api().ListRuns(&ctx, dreq, &daily).ok());
  int backfilled = 0;
  int64_t jan_last_end = 0, feb_last_end = 0;
  for (const auto& r : daily.runs()) {
    if (r.run_type() != "backfill") continue;
    ++backfilled;
    EXPECT_EQ(r.state(), "success");
    if (r.logical_date_ms() < Ms(2024, 2, 1)) {
      jan_last_end = std::max(jan_last_end, r.ended_at_ms());
    } else {
      feb_last_end = std::max(feb_last_end, r.ended_at_ms());
    }
  }
  EXPECT_EQ(backfilled, 60);
  EXPECT_GE(jan.started_at_ms(), jan_last_end);
  EXPECT_GE(feb.started_at_ms(), feb_last_end);
  // Each backfilled day landed exactly once (the scheduler's own run for yesterday adds one more).
  std::set<std::string> days;
  int lines_2024 = 0;
  for (auto line : absl::StrSplit(ReadFile(c.data("days")), '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "2024-")) continue;
    ++lines_2024;
    days.insert(std::string(line));
  }
  EXPECT_EQ(lines_2024, 60);
  EXPECT_EQ(days.size(), 60u);
  EXPECT_EQ(*days.begin(), "2024-01-01");
  EXPECT_EQ(*days.rbegin(), "2024-02-29");
}

}  // namespace
}  // namespace de::testing
