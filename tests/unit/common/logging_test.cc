// --log-format json: every line is one JSON object, whatever the message contains.
#include "common/logging.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "spdlog/spdlog.h"
#include "yaml-cpp/yaml.h"

namespace de::common {
namespace {

TEST(LoggingTest, JsonLinesEscapeQuotesNewlinesAndControlCharacters) {
  // Capture stderr (the logger's sink) in a temp file.
  char path[] = "/tmp/de-log-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  int saved = dup(2);
  dup2(fd, 2);
  ASSERT_TRUE(InitLogging("de-test", "json", "info").ok());
  spdlog::info("task \"load\" failed: C:\\data\nline two\t\x01 done");
  spdlog::default_logger()->flush();
  dup2(saved, 2);
  close(saved);
  close(fd);
  spdlog::drop("de-test");
  FILE* f = std::fopen(path, "r");
  ASSERT_NE(f, nullptr);
  char buf[4096] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  std::remove(path);
  std::string line(buf, n);
  ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;   // one line per event
  YAML::Node doc = YAML::Load(line);   // JSON is YAML: a parse error would throw
  EXPECT_EQ(doc["program"].as<std::string>(), "de-test");
  EXPECT_EQ(doc["level"].as<std::string>(), "info");
  EXPECT_EQ(doc["msg"].as<std::string>(), "task \"load\" failed: C:\\data\nline two\t\x01 done");
}

TEST(LoggingTest, UnknownFormatOrLevelIsAClearError) {
  auto st = InitLogging("de-test-2", "xml", "info");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("--log-format must be text or json"), std::string::npos);
  spdlog::drop("de-test-2");
  st = InitLogging("de-test-3", "text", "loud");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("unknown log level 'loud'"), std::string::npos);
  spdlog::drop("de-test-3");
}

}  // namespace
}  // namespace de::common
