// A real full disk: DE_HOME on a small tmpfs (needs root to mount; skipped otherwise). The
// scheduler stays up, answers a trigger with "disk full", loses no committed state, and takes
// triggers again once space returns.
#include <sys/mount.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

class TmpfsHome {
 public:
  TmpfsHome() { mounted_ = mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=4m") == 0; }
  ~TmpfsHome() {
    if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

// Fills the file system holding `path` (the write stops at ENOSPC).
void Fill(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::string block(64 << 10, 'x');
  while (out.write(block.data(), block.size())) {
  }
}

TEST(DiskFullE2E, SchedulerStaysUpSaysDiskFullAndResumes) {
  TmpfsHome home;
  if (!home.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  TempDir logs;
  Process sched({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", ""},
                logs / "scheduler.log");
  const std::string addr_file = home.path() + "/scheduler.addr";
  ASSERT_TRUE(WaitUntil([&] { return FileExists(addr_file) || !sched.Running(); })) << sched.Log();
  std::string addr = ReadFile(addr_file);
  while (!addr.empty() && addr.back() == '\n') addr.pop_back();
  int n = 0;
  auto dectl = [&](std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {DECTL_BIN, "--server", addr});
    std::string file = logs / absl::StrCat("dectl-", n++, ".out");
    Process p(args, file);
    int rc = p.Wait();
    *out = ReadFile(file);
    return rc;
  };
  WriteFile(logs / "d.yaml", "dag: d\ntasks: [ { id: a, type: noop } ]\n");
  std::string out;
  ASSERT_EQ(dectl({"dag", "submit", logs / "d.yaml"}, &out), 0) << out;
  ASSERT_EQ(dectl({"trigger", "d"}, &out), 0) << out;

  // Fill the disk, then write until the store notices (the WAL may first reuse its own pages).
  Fill(home.path() + "/filler");
  bool said_full = false;
  for (int i = 0; i < 200 && !said_full; ++i) {
    if (dectl({"trigger", "d"}, &out) != 0) {
      said_full = true;
      EXPECT_TRUE(absl::StrContains(out, "disk full")) << out;
    }
  }
  ASSERT_TRUE(said_full) << "no trigger failed on a full disk";
  EXPECT_TRUE(sched.Running()) << sched.Log();
  ASSERT_EQ(dectl({"runs", "list", "d"}, &out), 0) << out;   // reads still work

  std::filesystem::remove(home.path() + "/filler");
  ASSERT_TRUE(WaitUntil([&] { return dectl({"trigger", "d"}, &out) == 0; })) << out;
  EXPECT_TRUE(sched.Running());
  sched.Kill(15);
  EXPECT_EQ(sched.Wait(), 0) << sched.Log();
  // Nothing committed was lost or damaged.
  std::string check = logs / "check.out";
  Process sqlite({"/usr/bin/sqlite3", home.path() + "/de.db", "PRAGMA integrity_check"}, check);
  if (sqlite.Wait() == 0) EXPECT_EQ(ReadFile(check), "ok\n");
}

}  // namespace
}  // namespace de::testing
