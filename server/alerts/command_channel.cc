// The command alert channel: runs the rule's argv with the alert JSON on stdin.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "server/alerts/channel.h"
#include "server/alerts/env.h"

namespace de::alerts {
namespace {

constexpr size_t kMaxOutput = 2048;

class CommandChannel : public AlertChannel {
 public:
  DeliveryResult Deliver(const OutboxRow& row, absl::Duration timeout) override {
    DeliveryResult bad;
    bad.permanent = true;
    nlohmann::json target = nlohmann::json::parse(row.target, nullptr, false);
    if (!target.is_object() || !target.contains("argv") || !target["argv"].is_array() ||
        target["argv"].empty()) {
      bad.error = "outbox target has no argv";
      return bad;
    }
    std::vector<std::string> secrets, argv;
    for (const auto& a : target["argv"]) {
      auto v = ExpandEnv(a.is_string() ? a.get<std::string>() : a.dump(), &secrets);
      if (!v.ok()) {
        bad.error = absl::StrCat("command argument: ", v.status().message());
        return bad;
      }
      argv.push_back(*v);
    }
    DeliveryResult r = Run(argv, row, timeout);
    r.error = Redact(r.error, secrets);
    return r;
  }

 private:
  static DeliveryResult Run(const std::vector<std::string>& argv, const OutboxRow& row,
                            absl::Duration timeout) {
    DeliveryResult r;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return Error(r, "pipe");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return Error(r, "pipe");
    }
    std::vector<std::string> env_strings = {
        absl::StrCat("DE_ALERT_EVENT=", row.event), absl::StrCat("DE_ALERT_DELIVERY_ID=", row.delivery_id),
        absl::StrCat("DE_DAG=", row.dag_id), absl::StrCat("DE_RUN_ID=", row.run_id),
        absl::StrCat("DE_TASK=", row.task_id)};
    for (char** e = environ; *e != nullptr; ++e) {
      if (strncmp(*e, "DE_ALERT_", 9) != 0 && strncmp(*e, "DE_DAG=", 7) != 0 &&
          strncmp(*e, "DE_RUN_ID=", 10) != 0 && strncmp(*e, "DE_TASK=", 8) != 0) {
        env_strings.push_back(*e);
      }
    }
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return Error(r, "fork");
    if (pid == 0) {
      setpgid(0, 0);
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      execvpe(args[0], args.data(), envp.data());
      dprintf(2, "cannot run %s: %s\n", args[0], strerror(errno));
      _exit(127);
    }
    setpgid(pid, pid);
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    const absl::Time deadline = absl::Now() + timeout;
    size_t written = 0;
    std::string output;
    int in_fd = in[1];
    bool timed_out = false;
    while (true) {
      if (in_fd >= 0 && written >= row.body.size()) {
        close(in_fd);
        in_fd = -1;
      }
      pollfd fds[2] = {{out[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
      int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (left <= 0) {
        timed_out = true;
        break;
      }
      int n = poll(fds, in_fd >= 0 ? 2 : 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n < 0 && errno != EINTR) break;
      if (in_fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = write(in_fd, row.body.data() + written, row.body.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = row.body.size();   // reader went away
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t got = read(out[0], buf, sizeof buf);
        if (got == 0) break;   // every writer closed: the command is done
        if (got > 0 && output.size() < kMaxOutput) {
          output.append(buf, std::min(static_cast<size_t>(got), kMaxOutput - output.size()));
        }
      }
    }
    if (in_fd >= 0) close(in_fd);
    close(out[0]);
    if (timed_out) kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    kill(-pid, SIGKILL);   // nothing of it outlives the delivery
    if (timed_out) {
      r.error = absl::StrCat("command timed out after ", absl::FormatDuration(timeout));
      return r;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.status = code;
    r.ok = code == 0;
    if (!r.ok) {
      while (!output.empty() && (output.back() == '\n')) output.pop_back();
      r.error = absl::StrCat("command exited with ", code, output.empty() ? "" : ": ", output);
    }
    return r;
  }

  static DeliveryResult Error(DeliveryResult r, const char* what) {
    r.error = absl::StrCat(what, ": ", strerror(errno));
    return r;
  }
};

}  // namespace

std::unique_ptr<AlertChannel> NewCommandChannel() { return std::make_unique<CommandChannel>(); }

}  // namespace de::alerts
