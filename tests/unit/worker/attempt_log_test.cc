#include "worker/attempt_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace de::worker {
namespace {

std::string Join(const std::vector<v1::LogChunk>& chunks, int64_t* next_offset) {
  std::string s;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.offset(), *next_offset);
    s += c.data();
    *next_offset += static_cast<int64_t>(c.data().size());
  }
  return s;
}

std::string SpoolPath() {
  return (std::filesystem::temp_directory_path() /
          ("attempt_log_test-" + std::to_string(getpid()) + ".log"))
      .string();
}

TEST(AttemptLog, AnAttemptThatLogsNothingMakesNoSpoolFile) {
  const std::string spool = SpoolPath();
  {
    AttemptLog log(8, spool, {}, 0);
    EXPECT_TRUE(log.Feed("").empty());
    EXPECT_TRUE(log.Finish().empty());
    EXPECT_FALSE(std::filesystem::exists(spool));
    EXPECT_TRUE(log.Since(0).empty());
  }
  EXPECT_FALSE(std::filesystem::exists(spool));
}

TEST(AttemptLog, NumbersMaskedBytesAndResendsFromAnyStoredOffset) {
  const std::string spool = SpoolPath();
  int64_t next = 0;
  std::string sent;
  {
    AttemptLog log(7, spool, {"hunter2"}, 0);
    sent += Join(log.Feed("password is hun"), &next);
    sent += Join(log.Feed("ter2\nline two\n"), &next);
    sent += Join(log.Finish(), &next);
    EXPECT_EQ(sent, "password is ***\nline two\n");
    EXPECT_EQ(log.size(), static_cast<int64_t>(sent.size()));
    EXPECT_TRUE(std::filesystem::exists(spool));
    // The scheduler stored 5 bytes: everything after them comes again, at the right offsets.
    int64_t from = 5;
    EXPECT_EQ(Join(log.Since(5), &from), sent.substr(5));
    EXPECT_TRUE(log.Since(log.size()).empty());
    for (const auto& c : log.Since(0)) EXPECT_EQ(c.attempt_id(), 7);
  }
  EXPECT_FALSE(std::filesystem::exists(spool)) << "the spool outlived its attempt";
}

TEST(AttemptLog, CapsWhatItSendsAndSpools) {
  AttemptLog log(1, SpoolPath(), {}, 100);
  int64_t next = 0;
  std::string sent;
  for (int i = 0; i < 100; ++i) sent += Join(log.Feed("0123456789\n"), &next);
  sent += Join(log.Finish(), &next);
  EXPECT_EQ(sent.substr(0, 50), std::string("0123456789\n").append("0123456789\n")
                                    .append("0123456789\n").append("0123456789\n")
                                    .append("012345"));
  EXPECT_NE(sent.find("bytes of log dropped]\n"), std::string::npos) << sent;
  EXPECT_EQ(sent.substr(sent.size() - 11), "0123456789\n");
  int64_t from = 0;
  EXPECT_EQ(Join(log.Since(0), &from), sent);
}

TEST(AttemptLog, WithoutSpoolNothingCanBeResent) {
  AttemptLog log(1, "", {}, 0);
  EXPECT_EQ(log.Feed("abc").size(), 1u);
  EXPECT_TRUE(log.Since(0).empty());
}

}  // namespace
}  // namespace de::worker
