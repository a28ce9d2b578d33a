#include "cli/local_scheduler.h"

#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/limits.h"
#include "server/api/services.h"
#include "server/store/sqlite.h"
#include "server/store/store.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/spdlog.h"
#include "worker/agent.h"

namespace de::cli {
namespace {

// sockaddr_un.sun_path holds 108 bytes; longer homes fall back to a loopback TCP port.
constexpr size_t kMaxUnixPath = 100;

absl::StatusOr<std::string> MakeHome(const std::string& tmp_dir) {
  std::string parent = tmp_dir;
  if (parent.empty()) {
    const char* t = std::getenv("TMPDIR");
    parent = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  std::string templ = absl::StrCat(parent, "/de-dag-test-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot make a temporary DE_HOME in ", parent, ": ", std::strerror(errno)));
  }
  std::error_code ec;
  return std::filesystem::absolute(templ, ec).lexically_normal().string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalScheduler>> LocalScheduler::Start(
    LocalSchedulerOptions options) {
  std::unique_ptr<LocalScheduler> local(new LocalScheduler());
  absl::Status st = local->Init(std::move(options));
  if (!st.ok()) {
    local->Stop();
    (void)local->RemoveHome();
    return st;
  }
  return local;
}

absl::Status LocalScheduler::Init(LocalSchedulerOptions options) {
  auto home = MakeHome(options.tmp_dir);
  if (!home.ok()) return home.status();
  home_ = *home;
  // Tasks inherit this process's environment: a task that looks for DE_HOME finds this one.
  if (const char* h = std::getenv("DE_HOME"); h != nullptr) previous_de_home_ = h;
  ::setenv("DE_HOME", home_.c_str(), 1);
  de_home_set_ = true;
  // The scheduler's and worker's own log lines: in the home, never on the user's terminal.
  try {
    auto logger = spdlog::basic_logger_mt("dag-test", log_file());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %L %v", spdlog::pattern_time_type::utc);
    logger->flush_on(spdlog::level::info);
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return absl::UnavailableError(absl::StrCat("cannot write ", log_file(), ": ", e.what()));
  }
  // A throwaway database: a crash of this process loses it anyway.
  store::SetSyncMode(store::SyncMode::kNormal);
  const std::string db_path = home_ + "/de.db";
  auto store = store::Store::Open(db_path);
  if (!store.ok()) return store.status();
  bool created = false;
  auto box = vault::SecretBox::OpenKeyFile(home_ + "/secrets.key", &created);
  if (!box.ok()) return box.status();
  auto vault = vault::Vault::Open(db_path, *std::move(box), common::SystemClock::Get());
  if (!vault.ok()) return vault.status();
  vault_ = *std::move(vault);

  sched::SchedulerOptions opts;
  opts.logs_dir = home_ + "/logs";
  opts.heartbeat = absl::Seconds(1);
  opts.scheduled_runs = false;   // one run, by hand: the schedule only gives its interval
  opts.wait_for_dags = false;    // other DAGs' runs are not in this store
  scheduler_ = std::make_unique<sched::Scheduler>(*std::move(store), common::SystemClock::Get(),
                                                  opts);
  scheduler_->SetVault(vault_.get());
  if (absl::Status st = scheduler_->Recover(); !st.ok()) return st;

  // Worker sessions only; the operator calls are made on scheduler() directly.
  sessions_ = std::make_unique<api::WorkerSessionService>(scheduler_.get(), opts.lease);
  const std::string socket = home_ + "/worker.sock";
  const bool unix_socket = socket.size() <= kMaxUnixPath;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(unix_socket ? "unix:" + socket : "127.0.0.1:0",
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(sessions_.get());
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) return absl::UnavailableError("cannot start the local worker server");
  scheduler_->Start();
  scheduler_started_ = true;

  worker::AgentOptions agent;
  agent.scheduler = unix_socket ? "unix:" + socket : absl::StrCat("127.0.0.1:", port);
  agent.name = "dag-test";
  agent.slots = options.slots;
  std::error_code ec;
  agent.data_root = std::filesystem::absolute(options.data_root, ec).lexically_normal().string();
  agent.self_exe = options.self_exe.empty()
                       ? std::filesystem::read_symlink("/proc/self/exe", ec).string()
                       : options.self_exe;
  agent.work_dir = home_ + "/work";
  std::filesystem::create_directories(agent.work_dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", agent.work_dir));
  agent_ = std::make_unique<worker::Agent>(agent);
  agent_thread_ = std::thread([this] { agent_->Run(); });
  return absl::OkStatus();
}

LocalScheduler::~LocalScheduler() { Stop(); }

void LocalScheduler::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (agent_) {
    agent_->Stop();   // drain ...
    agent_->Stop();   // ... and stop now: whatever still runs is killed (~Agent)
    if (agent_thread_.joinable()) agent_thread_.join();
    agent_.reset();
  }
  if (scheduler_) scheduler_->CloseWorkerSessions();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (scheduler_started_) scheduler_->Stop();
  server_.reset();
  sessions_.reset();
  scheduler_.reset();
  vault_.reset();
  if (de_home_set_) {
    if (previous_de_home_) {
      ::setenv("DE_HOME", previous_de_home_->c_str(), 1);
    } else {
      ::unsetenv("DE_HOME");
    }
    de_home_set_ = false;
  }
  if (previous_logger_) {
    spdlog::set_default_logger(std::move(previous_logger_));
    spdlog::drop("dag-test");
  }
}

absl::Status LocalScheduler::RemoveHome() {
  if (home_.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::remove_all(home_, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot remove ", home_, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace de::cli
