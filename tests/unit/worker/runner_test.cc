#include "worker/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::worker {
namespace {

using ::testing::HasSubstr;

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "de-runner-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

// Waits (bounded) until process `pid` - not our child - has terminated. True if it did.
bool WaitGone(int pid, int timeout_ms = 10000) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == 1;
}

ProcessSpec Argv(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

ProcessSpec Sh(std::string script) { return Argv({"/bin/sh", "-c", std::move(script)}); }

ProcessResult RunCollect(const ProcessSpec& spec, std::string* out) {
  auto r = RunProcess(spec, [out](std::string_view chunk) { out->append(chunk); });
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : ProcessResult{};
}

TEST(ChildProcessTest, CapturesStdoutAndStderrInOrder) {
  std::string out;
  ProcessResult r = RunCollect(Sh("echo one; echo two >&2; echo three; printf four >&2"), &out);
  EXPECT_EQ(out, "one\ntwo\nthree\nfour");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.log_bytes, static_cast<int64_t>(out.size()));
}

TEST(ChildProcessTest, ReportsExitCode) {
  std::string out;
  ProcessResult r = RunCollect(Sh("echo failing; exit 3"), &out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "exit code 3");
  EXPECT_EQ(out, "failing\n");
}

TEST(ChildProcessTest, SurvivesCrashingChild) {
  std::string out;
  ProcessResult r = RunCollect(Sh("ulimit -c 0; echo before; kill -SEGV $$"), &out);
  EXPECT_EQ(r.term_signal, SIGSEGV);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("killed by signal 11"));
  EXPECT_EQ(out, "before\n");
}

TEST(ChildProcessTest, MissingProgramIsAClearStartError) {
  auto r = ChildProcess::Start(Argv({"/nonexistent/de-prog"}), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("cannot execute '/nonexistent/de-prog'"));
  EXPECT_THAT(r.status().message(), HasSubstr("No such file or directory"));

  auto by_name = ChildProcess::Start(Argv({"de-no-such-program-xyz"}), nullptr);
  ASSERT_FALSE(by_name.ok());
  EXPECT_THAT(by_name.status().message(),
              HasSubstr("cannot execute 'de-no-such-program-xyz': not found in PATH"));

  auto empty = ChildProcess::Start({}, nullptr);
  EXPECT_FALSE(empty.ok());
}

TEST(ChildProcessTest, NonExecutableFileIsPermissionDenied) {
  TempDir dir;
  std::ofstream(dir.File("script")) << "#!/bin/sh\necho hi\n";
  auto r = ChildProcess::Start(Argv({dir.File("script")}), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << r.status();
}

TEST(ChildProcessTest, MissingWorkingDirectoryIsAStartError) {
  ProcessSpec spec = Sh("true");
  spec.cwd = "/nonexistent/dir";
  auto r = ChildProcess::Start(spec, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("working directory '/nonexistent/dir'"));
}

TEST(ChildProcessTest, AppliesEnvAndCwd) {
  TempDir dir;
  ProcessSpec spec = Sh("echo \"$DE_TEST_VAR|$HOME_OVERRIDE_CHECK\"; pwd -P");
  spec.env = {{"DE_TEST_VAR", "hello world"}, {"HOME_OVERRIDE_CHECK", "x=y"}};
  spec.cwd = dir.path();
  std::string out;
  RunCollect(spec, &out);
  EXPECT_EQ(out, absl::StrCat("hello world|x=y\n", std::filesystem::canonical(dir.path()).string(),
                              "\n"));
}

TEST(ChildProcessTest, InheritsEnvironmentAndOverridesIt) {
  ::setenv("DE_RUNNER_INHERITED", "from-parent", 1);
  ::setenv("DE_RUNNER_OVERRIDDEN", "old", 1);
  ProcessSpec spec = Sh("echo $DE_RUNNER_INHERITED $DE_RUNNER_OVERRIDDEN");
  spec.env = {{"DE_RUNNER_OVERRIDDEN", "new"}};
  std::string out;
  RunCollect(spec, &out);
  EXPECT_EQ(out, "from-parent new\n");
}

TEST(ChildProcessTest, LooksUpProgramInTheChildsPath) {
  TempDir dir;
  std::string tool = dir.File("de-test-tool");
  std::ofstream(tool) << "#!/bin/sh\necho tool ran \"$@\"\n";
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  ProcessSpec spec = Argv({"de-test-tool", "a b"});
  spec.env = {{"PATH", absl::StrCat("/nonexistent:", dir.path())}};
  std::string out;
  RunCollect(spec, &out);
  EXPECT_EQ(out, "tool ran a b\n");
}

TEST(ChildProcessTest, StdinIsDevNull) {
  std::string out;
  ProcessResult r = RunCollect(Sh("cat; echo eof"), &out);
  EXPECT_EQ(out, "eof\n");
  EXPECT_TRUE(r.ok());
}

TEST(ChildProcessTest, DoesNotLeakFileDescriptors) {
  int fd = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(fd, 3);
  std::string out;
  RunCollect(Sh(absl::StrCat("test -e /proc/self/fd/", fd, " && echo open || echo closed")), &out);
  ::close(fd);
  EXPECT_EQ(out, "closed\n");
}

TEST(ChildProcessTest, TimeoutKillsTheWholeGroupEvenIfTermIsIgnored) {
  TempDir dir;
  std::string pid_file = dir.File("pid");
  // Both the shell and its background sleep ignore SIGTERM: only the SIGKILL escalation works.
  ProcessSpec spec =
      Sh(absl::StrCat("trap '' TERM; sleep 1000 & echo $! > ", pid_file, "; echo started; wait"));
  spec.timeout = absl::Milliseconds(500);
  spec.kill_grace = absl::Milliseconds(200);
  std::string out;
  ProcessResult r = RunCollect(spec, &out);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.error, "timed out after 500ms");
  EXPECT_EQ(out, "started\n");
  int sleep_pid = std::atoi(ReadFile(pid_file).c_str());
  ASSERT_GT(sleep_pid, 0);
  EXPECT_TRUE(WaitGone(sleep_pid));
}

TEST(ChildProcessTest, TimeoutSendsTermFirst) {
  ProcessSpec spec = Sh("exec sleep 1000");
  spec.timeout = absl::Milliseconds(100);
  std::string out;
  ProcessResult r = RunCollect(spec, &out);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM);
}

TEST(ChildProcessTest, LeftoverBackgroundProcessesAreKilledWhenTheChildExits) {
  TempDir dir;
  std::string pid_file = dir.File("pid");
  // The background sleep keeps the output pipe open; Wait() must not wait for it.
  std::string out;
  ProcessResult r =
      RunCollect(Sh(absl::StrCat("sleep 1000 & echo $! > ", pid_file, "; echo done")), &out);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(out, "done\n");
  int sleep_pid = std::atoi(ReadFile(pid_file).c_str());
  ASSERT_GT(sleep_pid, 0);
  EXPECT_TRUE(WaitGone(sleep_pid));
}

TEST(ChildProcessTest, CancelFromAnotherThread) {
  TempDir dir;
  std::string pid_file = dir.File("pid");
  absl::Notification started;
  std::string out;
  auto child = ChildProcess::Start(
      Sh(absl::StrCat("sleep 1000 & echo $! > ", pid_file, "; echo ready; wait")),
      [&](std::string_view chunk) {
        out.append(chunk);
        if (out.find("ready") != std::string::npos && !started.HasBeenNotified()) {
          started.Notify();
        }
      });
  ASSERT_TRUE(child.ok()) << child.status();
  std::thread canceller([&] {
    started.WaitForNotification();
    (*child)->Cancel();
    (*child)->Cancel();  // idempotent
  });
  ProcessResult r = (*child)->Wait();
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(r.error, "cancelled");
  EXPECT_TRUE(WaitGone(std::atoi(ReadFile(pid_file).c_str())));
  // Later calls return the same result; Cancel() after the end is harmless.
  (*child)->Cancel();
  EXPECT_EQ((*child)->Wait().term_signal, SIGTERM);
}

TEST(ChildProcessTest, CancelBeforeWait) {
  auto child = ChildProcess::Start(Sh("exec sleep 1000"), nullptr);
  ASSERT_TRUE(child.ok());
  (*child)->Cancel();
  ProcessResult r = (*child)->Wait();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.ok());
}

TEST(ChildProcessTest, ChildIsTheOomKillersFirstChoice) {
  auto child = ChildProcess::Start(Argv({"sleep", "1000"}), nullptr);
  ASSERT_TRUE(child.ok()) << child.status();
  std::string adj = ReadFile(absl::StrCat("/proc/", (*child)->pid(), "/oom_score_adj"));
  int own = std::atoi(ReadFile("/proc/self/oom_score_adj").c_str());
  if (own <= 800) {
    EXPECT_EQ(std::atoi(adj.c_str()), 800);
  }
  (*child)->Cancel();
  EXPECT_TRUE((*child)->Wait().cancelled);
}

TEST(ChildProcessTest, DestructorReapsAnUnwaitedChild) {
  int pid;
  {
    auto child = ChildProcess::Start(Sh("exec sleep 1000"), nullptr);
    ASSERT_TRUE(child.ok());
    pid = (*child)->pid();
  }
  // Reaped: no zombie is left for us.
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcessTest, LargeOutputDoesNotDeadlock) {
  constexpr int64_t kBytes = 10 * 1024 * 1024;
  int64_t seen = 0;
  int64_t newlines = 0;
  auto r =
      RunProcess(Sh(absl::StrCat("head -c ", kBytes, " /dev/zero >&2; yes line | head -n 100000")),
                 [&](std::string_view chunk) {
                   seen += chunk.size();
                   for (char c : chunk) newlines += (c == '\n');
                 });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(seen, kBytes + 100000 * 5);
  EXPECT_EQ(r->log_bytes, seen);
  EXPECT_EQ(newlines, 100000);
}

TEST(ChildProcessTest, ManyConcurrentChildren) {
  constexpr int kN = 8;
  std::vector<std::thread> threads;
  std::vector<std::string> outs(kN);
  std::vector<int> codes(kN, -2);
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([i, &outs, &codes] {
      auto r = RunProcess(Sh(absl::StrCat("echo child ", i, "; exit ", i)),
                          [&outs, i](std::string_view c) { outs[i].append(c); });
      codes[i] = r.ok() ? r->exit_code : -3;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(outs[i], absl::StrCat("child ", i, "\n"));
    EXPECT_EQ(codes[i], i);
  }
}

}  // namespace
}  // namespace de::worker
