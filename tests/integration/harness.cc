#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace de::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "de-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  if (std::getenv("DE_KEEP_TMP")) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Process::Process(std::vector<std::string> argv, const std::string& log_path,
                 const std::map<std::string, std::string>& env)
    : log_path_(log_path) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key)) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int rc = posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << strerror(rc);
    pid_ = -1;
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

void Process::Kill(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

int Process::Wait() {
  if (pid_ <= 0) return -1;
  if (!reaped_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

bool Process::Running() {
  if (pid_ <= 0 || reaped_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

std::string Process::Log() const { return ReadFile(log_path_); }

bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (cond()) return true;
    if (absl::Now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

bool FileExists(const std::string& path) { return std::filesystem::exists(path); }

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

Cluster::Cluster(std::vector<std::string> scheduler_args)
    : scheduler_args_(std::move(scheduler_args)) {}

Cluster::~Cluster() {
  workers_.clear();
  scheduler_.reset();
}

void Cluster::StartScheduler(const std::string& listen) {
  std::filesystem::remove(home_ / "scheduler.addr");
  std::vector<std::string> argv = {DE_SCHEDULER_BIN, "--home", home_.path(), "--listen", listen,
                                   "--http", "127.0.0.1:0"};
  argv.insert(argv.end(), scheduler_args_.begin(), scheduler_args_.end());
  scheduler_ = std::make_unique<Process>(
      argv, home_ / absl::StrCat("scheduler-", scheduler_starts_++, ".log"));
  std::string addr_file = home_ / "scheduler.addr";
  ASSERT_TRUE(WaitUntil([&] { return FileExists(addr_file) || !scheduler_->Running(); }));
  ASSERT_TRUE(FileExists(addr_file)) << "scheduler did not start:\n" << Logs();
  std::string addr = ReadFile(addr_file);
  while (!addr.empty() && addr.back() == '\n') addr.pop_back();
  address_ = addr;
  stub_ = v1::Operator::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
}

std::string Cluster::http_address() const {
  std::string addr = ReadFile(home_ / "http.addr");
  while (!addr.empty() && addr.back() == '\n') addr.pop_back();
  return addr;
}

int Cluster::KillScheduler(int sig) {
  scheduler_->Kill(sig);
  return scheduler_->Wait();
}

bool Cluster::WorkerConnected(const std::string& name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListWorkersResponse resp;
  if (!api().ListWorkers(&ctx, v1::ListWorkersRequest(), &resp).ok()) return false;
  for (const auto& x : resp.workers()) {
    if (x.name() == name && x.state() == "connected") return true;
  }
  return false;
}

Process* Cluster::StartWorker(const std::string& name, int slots,
                              const std::vector<std::string>& extra_args,
                              const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {DE_WORKER_BIN, "--scheduler", address_,  "--name",
                                   name,          "--slots",     std::to_string(slots),
                                   "--data-root", data_.path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto w = std::make_unique<Process>(argv, home_ / absl::StrCat("worker-", name, ".log"), env);
  Process* raw = w.get();
  workers_.push_back(std::move(w));
  bool connected = WaitUntil([&] { return WorkerConnected(name); });
  EXPECT_TRUE(connected) << "worker " << name << " did not connect:\n" << Logs();
  return raw;
}

int Cluster::Dectl(const std::vector<std::string>& args, std::string* output) {
  std::vector<std::string> argv = {DECTL_BIN, "--server", address_};
  argv.insert(argv.end(), args.begin(), args.end());
  static int n = 0;
  std::string out = home_ / absl::StrCat("dectl-", n++, ".out");
  Process p(argv, out);
  int rc = p.Wait();
  if (output) *output = ReadFile(out);
  return rc;
}

void Cluster::Submit(const std::string& yaml) {
  grpc::ClientContext ctx;
  v1::SubmitDagRequest req;
  req.set_yaml(yaml);
  req.set_source("test.yaml");
  v1::SubmitDagResponse resp;
  grpc::Status st = api().SubmitDag(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.errors_size(), 0) << resp.errors(0).line() << ":" << resp.errors(0).column()
                                   << ": " << resp.errors(0).message();
}

void Cluster::SubmitGated(const std::string& dag_id) {
  Submit(absl::StrCat("dag: ", dag_id, R"(
tasks:
  - id: work
    type: shell
    with:
      command: |
        echo ran >> )", data("ran"), R"(
        while [ ! -f )", data("go"), R"( ]; do sleep 0.02; done
)"));
}

std::string Cluster::TriggerHeld(const std::string& dag_id) {
  SubmitGated(dag_id);
  std::string run_id = Trigger(dag_id);
  EXPECT_TRUE(WaitUntil([&] { return FileExists(data("ran")); })) << Logs();
  return run_id;
}

std::string Cluster::Trigger(const std::string& dag, const std::map<std::string, std::string>& conf) {
  grpc::ClientContext ctx;
  v1::TriggerRequest req;
  req.set_dag_id(dag);
  for (const auto& [k, v] : conf) (*req.mutable_conf())[k] = v;
  v1::Run run;
  grpc::Status st = api().Trigger(&ctx, req, &run);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return run.run_id();
}

v1::Run Cluster::GetRun(const std::string& run_id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetRunRequest req;
  req.set_run_id(run_id);
  v1::Run run;
  grpc::Status st = api().GetRun(&ctx, req, &run);
  if (!st.ok()) run.set_state("unreachable: " + st.error_message());
  return run;
}

v1::Run Cluster::WaitRunDone(const std::string& run_id, absl::Duration timeout) {
  v1::Run run;
  bool done = WaitUntil(
      [&] {
        run = GetRun(run_id);
        const std::string& s = run.state();
        return s == "success" || s == "failed" || s == "cancelled";
      },
      timeout);
  EXPECT_TRUE(done) << "run " << run_id << " stuck in " << run.DebugString() << "\n" << Logs();
  return run;
}

std::string Cluster::TaskLog(const std::string& run_id, const std::string& task, int try_number) {
  std::string out;
  int64_t offset = 0;
  while (true) {
    grpc::ClientContext ctx;
    v1::GetTaskLogRequest req;
    req.set_run_id(run_id);
    req.set_task_id(task);
    req.set_try_number(try_number);
    req.set_offset(offset);
    v1::GetTaskLogResponse resp;
    if (!api().GetTaskLog(&ctx, req, &resp).ok()) break;
    out += resp.data();
    offset = resp.next_offset();
    if (resp.data().empty()) break;
  }
  return out;
}

std::string Cluster::Logs() const {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator(home_.path())) {
    if (entry.path().extension() == ".log") {
      out += "==== " + entry.path().filename().string() + "\n" + ReadFile(entry.path().string());
    }
  }
  return out;
}

}  // namespace de::testing
