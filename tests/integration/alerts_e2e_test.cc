// End to end alert hooks: real de-scheduler and de-worker processes and a loopback HTTP receiver
// in the test. Deliveries retry through refusals, survive kill -9 of the scheduler, fire
// `failure` when a worker dies with no tries left, and never fire `failure` for a retried task.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

// A minimal HTTP/1.1 server on 127.0.0.1 that records every request and answers with the status
// `policy(n)` gives for the n-th request (0-based). One connection at a time; Connection: close.
class HttpReceiver {
 public:
  struct Request {
    std::string path;
    std::map<std::string, std::string> headers;   // lower-case names
    std::string body;
    int status = 0;
  };

  explicit HttpReceiver(std::function<int(int)> policy) : policy_(std::move(policy)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpReceiver() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  void SetPolicy(std::function<int(int)> policy) {
    absl::MutexLock lock(&mu_);
    policy_ = std::move(policy);
  }
  std::vector<Request> Requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // Requests answered 2xx.
  std::vector<Request> Accepted() {
    std::vector<Request> out;
    for (auto& r : Requests()) {
      if (r.status >= 200 && r.status < 300) out.push_back(r);
    }
    return out;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Handle(c);
      close(c);
    }
  }

  void Handle(int c) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          for (absl::string_view line : absl::StrSplit(data.substr(0, header_end), "\r\n")) {
            if (absl::StartsWithIgnoreCase(line, "content-length:")) {
              (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &content_length);
            }
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
    }
    Request r;
    std::vector<std::string> lines = absl::StrSplit(data.substr(0, header_end), "\r\n");
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    r.path = first.size() > 1 ? first[1] : "";
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      r.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    r.body = data.substr(header_end + 4, content_length);
    {
      absl::MutexLock lock(&mu_);
      r.status = policy_(static_cast<int>(requests_.size()));
      requests_.push_back(r);
    }
    std::string resp = absl::StrCat("HTTP/1.1 ", r.status, " X\r\nContent-Length: 2\r\n",
                                    "Connection: close\r\n\r\nok");
    (void)!write(c, resp.data(), resp.size());
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::function<int(int)> policy_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

// The JSON value of "key": "..." in `body` (enough for asserting on flat fields).
std::string Field(const std::string& body, const std::string& key) {
  std::string needle = absl::StrCat("\"", key, "\":");
  size_t at = body.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  if (body[at] != '"') return body.substr(at, body.find_first_of(",}", at) - at);
  return body.substr(at + 1, body.find('"', at + 1) - at - 1);
}

// `dectl alerts list -o json` rows, crudely: the "event", "state" and "attempts" of each.
std::string AlertsJson(Cluster& c, const std::string& dag) {
  std::string out;
  EXPECT_EQ(c.Dectl({"-o", "json", "alerts", "list", "--dag", dag}, &out), 0) << out;
  return out;
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string FailingDag(const HttpReceiver& hook) {
  return absl::StrReplaceAll(R"(
dag: breaks
alerts:
  - on: [failure]
    webhook: { url: "URL", headers: { X-Team: data } }
tasks:
  - id: boom
    type: shell
    with: { command: "echo about to fail; echo the reason >&2; exit 3" }
)",
                             {{"URL", hook.Url("/hooks/de")}});
}

TEST(AlertsE2E, WebhookRefusedTwiceIsDeliveredOnceWithItsRetriesRecorded) {
  HttpReceiver hook([](int n) { return n < 2 ? 500 : 200; });
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(FailingDag(hook));
  std::string run_id = c.Trigger("breaks");
  ASSERT_EQ(c.WaitRunDone(run_id).state(), "failed");
  ASSERT_TRUE(WaitUntil([&] { return hook.Accepted().size() == 1; })) << c.Logs();
  ASSERT_TRUE(WaitUntil([&] { return Count(AlertsJson(c, "breaks"), "\"sent\"") == 1; }));
  std::vector<HttpReceiver::Request> requests = hook.Requests();
  ASSERT_EQ(requests.size(), 3u);
  const std::string id = requests[0].headers["x-de-delivery-id"];
  EXPECT_EQ(id.size(), 36u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.path, "/hooks/de");
    EXPECT_EQ(r.headers.at("x-de-delivery-id"), id);   // one idempotency key for every try
    EXPECT_EQ(r.headers.at("x-team"), "data");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
  }
  const std::string& body = requests[2].body;
  EXPECT_EQ(Field(body, "version"), "1");
  EXPECT_EQ(Field(body, "event"), "failure");
  EXPECT_EQ(Field(body, "dag"), "breaks");
  EXPECT_EQ(Field(body, "run"), run_id);
  EXPECT_EQ(Field(body, "task"), "boom");
  EXPECT_EQ(Field(body, "attempt"), "1");
  EXPECT_TRUE(absl::StrContains(Field(body, "log_tail"), "about to fail")) << body;
  std::string list = AlertsJson(c, "breaks");
  EXPECT_TRUE(absl::StrContains(list, "\"attempts\": 3")) << list;
  EXPECT_TRUE(absl::StrContains(list, "\"last_status\": 200")) << list;
  EXPECT_EQ(Count(list, "\"delivery_id\""), 1) << list;
  std::string table;
  ASSERT_EQ(c.Dectl({"alerts", "list"}, &table), 0) << table;
  EXPECT_TRUE(absl::StrContains(table, "failure")) << table;
  EXPECT_TRUE(absl::StrContains(table, "sent")) << table;
  ASSERT_EQ(c.Dectl({"alerts", "list", "--failed"}, &table), 0);
  EXPECT_EQ(table, "no failed alert deliveries\n");
}

TEST(AlertsE2E, SchedulerKilledBeforeDeliverySendsAfterRestartOnce) {
  HttpReceiver hook([](int) { return 503; });
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(FailingDag(hook));
  std::string run_id = c.Trigger("breaks");
  ASSERT_EQ(c.WaitRunDone(run_id).state(), "failed");
  // The failure's delivery is committed (the receiver refused a first try); kill -9 the
  // scheduler before it can deliver.
  ASSERT_TRUE(WaitUntil([&] { return !hook.Requests().empty(); })) << c.Logs();
  c.KillScheduler(SIGKILL);
  const size_t refused = hook.Requests().size();
  hook.SetPolicy([](int) { return 200; });
  c.StartScheduler();
  ASSERT_TRUE(WaitUntil([&] { return hook.Accepted().size() == 1; })) << c.Logs();
  ASSERT_TRUE(WaitUntil([&] { return Count(AlertsJson(c, "breaks"), "\"sent\"") == 1; }));
  std::vector<HttpReceiver::Request> requests = hook.Requests();
  EXPECT_EQ(requests.size(), refused + 1);
  for (const auto& r : requests) {
    EXPECT_EQ(r.headers.at("x-de-delivery-id"), requests[0].headers.at("x-de-delivery-id"));
  }
  EXPECT_EQ(Field(requests.back().body, "run"), run_id);
  EXPECT_EQ(Count(AlertsJson(c, "breaks"), "\"delivery_id\""), 1);
}

TEST(AlertsE2E, WorkerKilledWithNoTriesLeftFiresFailureOnce) {
  HttpReceiver hook([](int) { return 200; });
  Cluster c;
  c.StartScheduler();
  c.Submit(absl::StrReplaceAll(R"(
dag: orphaned
alerts:
  - on: [failure]
    webhook: "URL/failure"
  - on: [lease_lost]
    webhook: "URL/lost"
tasks:
  - id: hang
    type: shell
    with:
      command: |
        echo "$DE_TRY_NUMBER" >> DATA/starts
        sleep 60
)",
                               {{"URL", hook.Url("")}, {"DATA", c.data("")}}));
  std::string run_id = c.Trigger("orphaned");
  // Lost attempts are retried up to 3 times (de-scheduler's max_lost); the 4th loss fails it.
  for (int i = 1; i <= 4; ++i) {
    Process* w = c.StartWorker(absl::StrCat("w", i), 1);
    ASSERT_TRUE(WaitUntil([&] {
      return Count(FileExists(c.data("starts")) ? ReadFile(c.data("starts")) : "", "\n") == i;
    })) << c.Logs();
    EXPECT_TRUE(hook.Requests().empty() || hook.Requests().back().path == "/lost");
    w->Kill(SIGKILL);
    w->Wait();
  }
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "failed") << run.DebugString();
  ASSERT_TRUE(WaitUntil([&] {
    int failures = 0;
    for (const auto& r : hook.Accepted()) failures += r.path == "/failure";
    return failures == 1 && hook.Accepted().size() == 5;
  })) << c.Logs();
  int failures = 0, lost = 0;
  for (const auto& r : hook.Requests()) {
    failures += r.path == "/failure";
    lost += r.path == "/lost";
  }
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(lost, 4);
  EXPECT_EQ(Field(hook.Requests().back().body, "event"), "failure");
}

TEST(AlertsE2E, RetriedTaskThatSucceedsFiresRetryButNotFailure) {
  HttpReceiver hook([](int) { return 200; });
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(absl::StrReplaceAll(R"(
dag: flaky
alerts:
  - on: [failure, task_failure]
    webhook: "URL/failure"
  - on: [retry]
    webhook: "URL/retry"
  - on: [success]
    webhook: "URL/success"
tasks:
  - id: once
    type: shell
    retries: 1
    retry_delay: 1s
    with:
      command: "if [ -f DATA/failed-once ]; then echo fine; else touch DATA/failed-once; exit 1; fi"
)",
                               {{"URL", hook.Url("")}, {"DATA", c.data("")}}));
  std::string run_id = c.Trigger("flaky");
  ASSERT_EQ(c.WaitRunDone(run_id).state(), "success");
  ASSERT_TRUE(WaitUntil([&] { return hook.Accepted().size() == 2; })) << c.Logs();
  std::vector<HttpReceiver::Request> requests = hook.Requests();
  EXPECT_EQ(requests[0].path, "/retry");
  EXPECT_EQ(Field(requests[0].body, "event"), "retry");
  EXPECT_EQ(Field(requests[0].body, "attempt"), "1");
  EXPECT_EQ(requests[1].path, "/success");
  std::string list = AlertsJson(c, "flaky");
  EXPECT_EQ(Count(list, "\"event\": \"failure\""), 0) << list;
  EXPECT_EQ(Count(list, "\"event\": \"task_failure\""), 0) << list;
  EXPECT_EQ(Count(list, "\"delivery_id\""), 2) << list;
}

TEST(AlertsE2E, HungRunFiresDeadlineMissAtTheDeadlineWhileStillRunning) {
  HttpReceiver hook([](int) { return 200; });
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(absl::StrReplaceAll(R"(
dag: late
sla: { after: run_start, within: 2s }
alerts:
  - on: [deadline_miss, failure]
    webhook: "URL/late"
tasks:
  - id: hang
    type: shell
    with: { command: "while [ ! -f DATA/go ]; do sleep 0.05; done" }
)",
                               {{"URL", hook.Url("")}, {"DATA", c.data("")}}));
  std::string run_id = c.Trigger("late");
  ASSERT_TRUE(WaitUntil([&] { return hook.Accepted().size() == 1; })) << c.Logs();
  const std::string body = hook.Requests()[0].body;
  EXPECT_EQ(Field(body, "event"), "deadline_miss");
  EXPECT_EQ(Field(body, "run"), run_id);
  EXPECT_NE(Field(body, "deadline"), "null");
  EXPECT_EQ(c.GetRun(run_id).state(), "running");   // fired while the run was still going
  WriteFile(c.data("go"), "");
  ASSERT_EQ(c.WaitRunDone(run_id).state(), "success");
  EXPECT_EQ(Count(AlertsJson(c, "late"), "\"delivery_id\""), 1);   // once per run
}

TEST(AlertsE2E, DectlAlertsTestSendsThroughEveryHook) {
  HttpReceiver hook([](int) { return 200; });
  Cluster c;
  c.StartScheduler();
  c.Submit(FailingDag(hook));
  std::string out;
  ASSERT_EQ(c.Dectl({"alerts", "test", "breaks"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "queued 1 test delivery for breaks")) << out;
  ASSERT_TRUE(WaitUntil([&] { return hook.Accepted().size() == 1; })) << c.Logs();
  EXPECT_EQ(Field(hook.Requests()[0].body, "event"), "test");
  EXPECT_NE(c.Dectl({"alerts", "test", "nope"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "no DAG 'nope'")) << out;
}

}  // namespace
}  // namespace de::testing
