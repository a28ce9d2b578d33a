#include "cli/format.h"
#include "cli/run_progress.h"

#include <sstream>

#include "de/v1/types.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

using ::testing::HasSubstr;

// One notion of "done" for `trigger --wait`'s progress and `dag test`'s lines.
TEST(TaskStateTest, UpForRetryIsNotDone) {
  for (const char* s : {"success", "failed", "upstream_failed", "skipped", "cancelled"}) {
    EXPECT_TRUE(IsDoneTaskState(s)) << s;
  }
  for (const char* s : {"scheduled", "queued", "running", "up_for_retry", "", "bogus"}) {
    EXPECT_FALSE(IsDoneTaskState(s)) << s;
  }
}

TEST(TableTest, AlignsColumnsWithoutTrailingBlanks) {
  Table t({"NAME", "STATE", "N"});
  t.AddRow({"a", "running", "1"});
  t.AddRow({"longer_name", "ok", "12345"});
  t.AddRow({"short"});  // missing cells are blank
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "NAME         STATE    N\n"
            "a            running  1\n"
            "longer_name  ok       12345\n"
            "short\n");
}

TEST(TableTest, CountsCodePointsAndFlattensNewlines) {
  Table t({"A", "B"});
  t.AddRow({"\xC3\xA9t\xC3\xA9", "x"});  // "été": 3 code points, 5 bytes
  t.AddRow({"two\nlines", "y"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "A          B\n"
            "\xC3\xA9t\xC3\xA9        x\n"
            "two lines  y\n");
}

TEST(FormatTest, Times) {
  EXPECT_EQ(FormatTime(0), "-");
  EXPECT_EQ(FormatTime(1704078245000), "2024-01-01 03:04:05");
  EXPECT_EQ(FormatTime(1704078245999), "2024-01-01 03:04:05");
  EXPECT_EQ(FormatClock(1704078245000), "03:04:05");
}

TEST(FormatTest, Durations) {
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(350), "350ms");
  EXPECT_EQ(FormatDuration(1000), "1.0s");
  EXPECT_EQ(FormatDuration(1234), "1.2s");
  EXPECT_EQ(FormatDuration(59940), "59.9s");
  EXPECT_EQ(FormatDuration(59960), "1m00s");
  EXPECT_EQ(FormatDuration(184000), "3m04s");
  EXPECT_EQ(FormatDuration(3600000), "1h00m");
  EXPECT_EQ(FormatDuration(2 * 3600000 + 5 * 60000), "2h05m");
  EXPECT_EQ(FormatDuration(3 * 86400000LL + 4 * 3600000), "3d04h");
}

TEST(FormatTest, Elapsed) {
  EXPECT_EQ(FormatElapsed(0, 0, 5000), "-");
  EXPECT_EQ(FormatElapsed(1000, 2500, 99999), "1.5s");
  EXPECT_EQ(FormatElapsed(1000, 0, 4000), "3.0s");  // still running
}

TEST(FormatTest, ProgressBar) {
  EXPECT_EQ(ProgressBar(0, 0, 10), "[----------] 0/0 (0%)");
  EXPECT_EQ(ProgressBar(12, 31, 10), "[###-------] 12/31 (38%)");
  EXPECT_EQ(ProgressBar(31, 31, 10), "[##########] 31/31 (100%)");
  EXPECT_EQ(ProgressBar(40, 31, 10), "[##########] 31/31 (100%)");
}

TEST(FormatTest, Abbreviate) {
  EXPECT_EQ(Abbreviate("", 10), "");
  EXPECT_EQ(Abbreviate("short", 10), "short");
  EXPECT_EQ(Abbreviate("exactly 10", 10), "exactly 10");
  EXPECT_EQ(Abbreviate("this is too long", 10), "this is...");
  EXPECT_EQ(Abbreviate("first line\nsecond", 40), "first line...");
  EXPECT_EQ(Abbreviate("only line\n", 40), "only line");
}

TEST(FormatTest, JsonUsesProtoFieldNamesAndDefaults) {
  de::v1::Worker w;
  w.set_name("w1");
  w.set_last_seen_ms(5);
  std::string json = ToJson(w);
  EXPECT_THAT(json, HasSubstr("\"name\": \"w1\""));
  EXPECT_THAT(json, HasSubstr("\"last_seen_ms\": \"5\""));
  EXPECT_THAT(json, HasSubstr("\"busy\": 0"));
  EXPECT_EQ(json.back(), '\n');
}

}  // namespace
}  // namespace de::cli
