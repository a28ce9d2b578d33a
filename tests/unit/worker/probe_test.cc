// The worker's answer to a data-arrival probe (worker/probe.h), on real files in a temporary data
// root: paths and globs, min_age, temporary names, and confinement to the data root.
#include "worker/probe.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ProbeTest : public ::testing::Test {
 protected:
  ProbeTest() {
    std::string tmpl = (fs::temp_directory_path() / "de-probe-XXXXXX").string();
    base_ = mkdtemp(tmpl.data());
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/raw");
  }
  ~ProbeTest() override { fs::remove_all(base_); }

  void Write(const std::string& rel, absl::Duration age = absl::ZeroDuration()) {
    const std::string path = root_ + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "x\n";
    const timespec ts = absl::ToTimespec(now_ - age);
    const timespec times[2] = {ts, ts};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  v1::ProbeResult Probe(const std::string& path, bool glob, absl::Duration min_age = {}) {
    v1::Probe p;
    p.set_probe_id(7);
    p.set_path(path);
    p.set_glob(glob);
    p.set_min_age_ms(absl::ToInt64Milliseconds(min_age));
    v1::ProbeResult r = RunProbe(p, root_, now_);
    EXPECT_EQ(r.probe_id(), 7);
    return r;
  }

  std::string base_, root_;
  absl::Time now_ = absl::Now();
};

TEST_F(ProbeTest, APathIsThereOrNot) {
  EXPECT_EQ(Probe("raw/a.csv.gz", false).found(), 0);
  Write("raw/a.csv.gz");
  v1::ProbeResult r = Probe("raw/a.csv.gz", false);
  EXPECT_EQ(r.found(), 1);
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(Probe("raw", false).found(), 1);  // a folder counts too
}

TEST_F(ProbeTest, MinAgeHoldsBackAFileStillBeingWritten) {
  Write("raw/a.csv", absl::Seconds(10));
  v1::ProbeResult r = Probe("raw/a.csv", false, absl::Minutes(1));
  EXPECT_EQ(r.found(), 0);
  EXPECT_EQ(r.too_new(), 1);
  Write("raw/b.csv", absl::Minutes(2));
  EXPECT_EQ(Probe("raw/b.csv", false, absl::Minutes(1)).found(), 1);
  Write("raw/d/1.csv", absl::Minutes(2));
  Write("raw/d/2.csv", absl::Seconds(5));
  r = Probe("raw/d/*.csv", true, absl::Minutes(1));
  EXPECT_EQ(r.found(), 1);
  EXPECT_EQ(r.too_new(), 1);
}

TEST_F(ProbeTest, AGlobCountsRegularFilesButNotTemporaryNames) {
  Write("raw/d/1.csv");
  Write("raw/d/2.csv");
  Write("raw/d/_3.csv");  // being written under a temporary name
  Write("raw/d/.4.csv");
  fs::create_directories(root_ + "/raw/d/5.csv");  // a folder is not a file
  EXPECT_EQ(Probe("raw/d/*.csv", true).found(), 2);
  EXPECT_EQ(Probe("raw/e/*.csv", true).found(), 0);
  Write("lake/dt=1/_SUCCESS");  // the pattern names '_' files itself: they count
  Write("lake/dt=2/_SUCCESS");
  EXPECT_EQ(Probe("lake/dt=*/_SUCCESS", true).found(), 2);
}

TEST_F(ProbeTest, ThePathMustStayInsideTheDataRoot) {
  std::ofstream(base_ + "/secret.csv") << "x\n";
  v1::ProbeResult r = Probe("../secret.csv", false);
  EXPECT_EQ(r.found(), 0);
  EXPECT_THAT(r.error(), HasSubstr("is outside the data root"));
  EXPECT_TRUE(r.permanent());
  r = Probe("../*.csv", true);
  EXPECT_THAT(r.error(), HasSubstr("is outside the data root"));
  EXPECT_TRUE(r.permanent());
  // A link inside the root to a file outside it.
  fs::create_symlink(base_ + "/secret.csv", root_ + "/raw/link.csv");
  r = Probe("raw/link.csv", false);
  EXPECT_THAT(r.error(), HasSubstr("is outside the data root"));
  r = Probe("raw/*.csv", true);
  EXPECT_THAT(r.error(), HasSubstr("is outside the data root"));
  EXPECT_TRUE(r.permanent());
}

}  // namespace
}  // namespace de::worker
