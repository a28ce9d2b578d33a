#include "worker/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/dag/param_values.h"
#include "common/logging.h"
#include "common/version.h"
#include "spdlog/spdlog.h"
#include "worker/agent.h"

namespace de::worker {
namespace {

constexpr char kUsage[] = R"(usage: de-worker [options]            run tasks for a de-scheduler
       de-worker task TYPE key=value ...   run one built-in task in the foreground

  --scheduler HOST:PORT  scheduler address (env DE_SERVER; default 127.0.0.1:7070); several,
                         comma-separated, for schedulers sharing one PostgreSQL (the worker
                         serves whichever leads)
  --name NAME            worker name (default: hostname-pid)
  --slots N              tasks run at once (default 4)
  --pools a,b            serve only these pools (default: every pool)
  --data-root DIR        where built-in tasks resolve relative paths (default: current folder)
  --token TOKEN          bearer token with role worker (env DE_TOKEN)
  --tls-ca FILE          connect over TLS, trusting this CA certificate (PEM; env DE_TLS_CA)
  --tls-cert FILE        client certificate (PEM) for a scheduler with --tls-client-ca
  --tls-key FILE         its private key (PEM)
  --max-log-bytes SIZE   the most log sent per task attempt, e.g. 100MB (default; 0 = no
                         limit; the scheduler's own limit applies too): the first and last
                         part are kept with a "[de: N bytes of log dropped]" line between
  --log-format FORMAT    text (default) or json
  --log-level LEVEL      trace debug info warn error (default info)

SIGTERM/SIGINT drains: no new tasks, running ones finish and report. A second signal exits now.
)";

}  // namespace

int DaemonMain(int argc, char** argv) {
  AgentOptions opts;
  const char* env_server = std::getenv("DE_SERVER");
  if (env_server) opts.scheduler = env_server;
  char host[256] = "worker";
  gethostname(host, sizeof(host) - 1);
  opts.name = absl::StrCat(host, "-", getpid());
  std::string log_format = "text", log_level = "info";
  if (const char* t = std::getenv("DE_TOKEN"); t != nullptr) opts.token = t;
  std::string tls_ca, tls_cert, tls_key;
  if (const char* t = std::getenv("DE_TLS_CA"); t != nullptr) tls_ca = t;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "de-worker " << common::Version() << "\n";
      return 0;
    } else if (a == "--scheduler" && value(&opts.scheduler)) {
    } else if (a == "--name" && value(&opts.name)) {
    } else if (a == "--token" && value(&opts.token)) {
    } else if (a == "--tls-ca" && value(&tls_ca)) {
    } else if (a == "--tls-cert" && value(&tls_cert)) {
    } else if (a == "--tls-key" && value(&tls_key)) {
    } else if (a == "--data-root" && value(&opts.data_root)) {
    } else if (a == "--log-format" && value(&log_format)) {
    } else if (a == "--log-level" && value(&log_level)) {
    } else if (a == "--max-log-bytes" && value(&v)) {
      auto n = dag::ParseByteSize(v);
      if (!n.ok() || *n < 0) {
        std::cerr << "de-worker: --max-log-bytes: '" << v << "' is not a size like 100MB\n";
        return 2;
      }
      opts.max_log_bytes = *n;
    } else if (a == "--pools" && value(&v)) {
      opts.pools = absl::StrSplit(v, ',', absl::SkipEmpty());
    } else if (a == "--slots" && value(&v)) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || n <= 0 || n > 10000) {
        std::cerr << "de-worker: --slots must be a positive integer, not '" << v << "'\n";
        return 2;
      }
      opts.slots = static_cast<int>(n);
    } else {
      std::cerr << "de-worker: unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (absl::Status st = common::InitLogging("de-worker", log_format, log_level); !st.ok()) {
    std::cerr << "de-worker: " << st.message() << "\n";
    return 2;
  }
  if (tls_cert.empty() != tls_key.empty() || (!tls_cert.empty() && tls_ca.empty())) {
    std::cerr << "de-worker: --tls-cert and --tls-key go together, and need --tls-ca\n";
    return 2;
  }
  for (auto [path, out] : {std::pair{&tls_ca, &opts.tls_ca_pem},
                           std::pair{&tls_cert, &opts.tls_cert_pem},
                           std::pair{&tls_key, &opts.tls_key_pem}}) {
    if (path->empty()) continue;
    std::ifstream in(*path);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      std::cerr << "de-worker: cannot read " << *path << "\n";
      return 2;
    }
    *out = pem.str();
  }
  std::error_code ec;
  opts.data_root = std::filesystem::absolute(opts.data_root, ec).lexically_normal().string();
  opts.self_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  opts.work_dir = (std::filesystem::temp_directory_path() /
                   absl::StrCat("de-worker-", getpid())).string();
  std::filesystem::create_directories(opts.work_dir, ec);
  if (ec) {
    std::cerr << "de-worker: cannot create " << opts.work_dir << ": " << ec.message() << "\n";
    return 1;
  }

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR2);   // internal: Run() returned, the waiter may end
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Agent agent(opts);
  std::thread waiter([&] {
    for (int n = 0; n < 2; ++n) {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (sig == SIGUSR2) return;   // Run() returned on its own
      if (n == 0) {
        spdlog::info("signal {}: draining (signal again to stop now)", sig);
      } else {
        spdlog::info("signal {}: stopping", sig);
      }
      agent.Stop();
    }
  });
  spdlog::info("de-worker {} {} starting: scheduler {}, {} slots, data root {}", common::Version(),
               opts.name, opts.scheduler, opts.slots, opts.data_root);
  agent.Run();
  pthread_kill(waiter.native_handle(), SIGUSR2);
  waiter.join();
  std::filesystem::remove_all(opts.work_dir, ec);
  return 0;
}

}  // namespace de::worker
