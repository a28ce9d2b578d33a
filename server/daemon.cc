#include "server/daemon.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/dag/loader.h"
#include "common/dag/param_values.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/version.h"
#include "server/alerts/outbox.h"
#include "server/alerts/sender.h"
#include "server/alerts/service.h"
#include "server/api/services.h"
#include "server/auth/security.h"
#include "server/http/api_routes.h"
#include "server/home_lock.h"
#include "server/http/http_server.h"
#include "server/http/web_routes.h"
#include "server/metrics/metrics.h"
#include "server/sched/scheduler.h"
#include "server/store/pg_lock.h"
#include "server/store/postgres.h"
#include "server/store/store.h"
#include "server/vault/vault.h"
#include "server/vault/vault_service.h"
#include "spdlog/spdlog.h"

namespace de::server {
namespace {

constexpr char kUsage[] = R"(usage: de-scheduler [options]

  --home DIR           state folder: SQLite database, task logs (env DE_HOME; default ./de-home)
  --store URL          keep the state in PostgreSQL instead of DIR/de.db: postgresql://USER@HOST/DB
                       or postgres://... (libpq URL; a password may also come from ~/.pgpass or
                       PGPASSWORD). Task logs and the secrets key stay in DIR.
  --listen HOST:PORT   gRPC address (default 127.0.0.1:7070; port 0 picks a free port)
  --http HOST:PORT     HTTP address for /metrics, the JSON API and the web page (default
                       127.0.0.1:9464; port 0 picks a free port; '' turns HTTP off)
  --lease DURATION     an attempt not heartbeated for this long is lost and retried (default 10s)
  --heartbeat DURATION how often workers heartbeat (default 2s)
  --max-log-bytes SIZE the most log kept per task attempt, e.g. 100MB (default; 0 = no limit):
                       workers keep the first and last part with a "[de: N bytes of log
                       dropped]" line between
  --sync MODE          full (default: a commit is on disk before anyone is told; survives power
                       loss) or normal (survives a crash of the process; a power cut may lose the
                       last transactions)
  --pool NAME=SLOTS    cap a pool at SLOTS running tasks (repeatable; unlisted pools are uncapped)
  --alerts-file FILE   alert hooks for every DAG (a YAML list, like a DAG's alerts:)
  --secrets-key FILE   the key that seals secrets (64 hex characters; default DIR/secrets.key,
                       made with a random key when absent: back it up, secrets need it)
  --alert-max-attempts N  tries per alert delivery before it is marked failed (default 10)
  --alert-timeout DURATION  timeout of one delivery attempt (default 10s)
  --alert-link-base URL  alerts link to URL/runs/RUN (default http://127.0.0.1:9464)
%s  --log-format FORMAT  text (default) or json
  --log-level LEVEL    trace debug info warn error (default info)
  --version

The address actually bound is written to DIR/scheduler.addr once the server accepts calls, and
the HTTP address to DIR/http.addr. SIGHUP re-reads the TLS certificate and key.
)";

int Fail(const std::string& msg) {
  std::cerr << "de-scheduler: " << msg << "\n";
  return 1;
}

// The variables and secrets, with the key at `key_path` (made when absent).
absl::StatusOr<std::unique_ptr<vault::Vault>> OpenVault(const std::string& key_path,
                                                        const std::string& db_path) {
  bool created = false;
  auto box = vault::SecretBox::OpenKeyFile(key_path, &created);
  if (!box.ok()) return box.status();
  if (created) {
    spdlog::warn("made a new secrets key in {} (key {}): back it up; secrets set with it cannot "
                 "be read without it", key_path, box->key_id());
  }
  return vault::Vault::Open(db_path, *std::move(box), common::SystemClock::Get());
}

// The sender's outcome names (sent, retry, failed) as the metric's (delivered, failed, dropped).
std::string AlertOutcomeLabel(const std::string& outcome) {
  if (outcome == "sent") return "delivered";
  if (outcome == "retry") return "failed";
  if (outcome == "failed") return "dropped";
  return outcome;
}

// Reads and validates --alerts-file.
absl::StatusOr<std::vector<dag::AlertSpec>> LoadAlertsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--alerts-file: cannot read ", path));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  dag::AlertsLoadResult r = dag::LoadAlertsFile(text, path);
  if (!r.ok()) {
    std::string msg = "--alerts-file is invalid:";
    for (const auto& d : r.errors) absl::StrAppend(&msg, "\n  ", d.ToString());
    return absl::InvalidArgumentError(msg);
  }
  return r.alerts;
}

// Writes DIR/name atomically (a temporary file renamed over it).
absl::Status PublishFile(const std::string& home, const std::string& name,
                         const std::string& value) {
  const std::string path = home + "/" + name;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << value << "\n";
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

int Main(int argc, char** argv) {
  // Block termination signals before any thread exists (gRPC and the scheduler start threads,
  // which inherit the mask); one thread waits for them and shuts down cleanly.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const char* env_home = std::getenv("DE_HOME");
  std::string home = env_home ? env_home : "./de-home";
  std::string listen = "127.0.0.1:7070";
  std::string http_listen = "127.0.0.1:9464";
  std::string log_format = "text", log_level = "info";
  sched::SchedulerOptions opts;
  alerts::OutboxOptions alert_opts;
  alerts::SenderOptions sender_opts;
  std::string alerts_file;
  std::string secrets_key;
  std::string store_url;
  auth::SecurityOptions security_opts;
  std::string flag_error;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (auth::ParseSecurityFlag(a, value, &security_opts, &flag_error)) {
      if (!flag_error.empty()) return Fail(flag_error);
    } else if (a == "--help" || a == "-h") {
      std::printf(kUsage, auth::kSecurityUsage);
      return 0;
    } else if (a == "--version") {
      std::cout << "de-scheduler " << common::Version() << "\n";
      return 0;
    } else if (a == "--home" && value(&home)) {
    } else if (a == "--listen" && value(&listen)) {
    } else if (a == "--alerts-file" && value(&alerts_file)) {
    } else if (a == "--secrets-key" && value(&secrets_key)) {
    } else if (a == "--store" && value(&store_url)) {
      if (!store::IsPostgresUrl(store_url)) {
        return Fail(absl::StrCat("--store: '", store::RedactPgUrl(store_url),
                                 "' is not a postgresql:// or postgres:// URL"));
      }
    } else if (a == "--alert-link-base" && value(&alert_opts.link_base)) {
    } else if (a == "--alert-max-attempts" && value(&v)) {
      sender_opts.max_attempts = std::atoi(v.c_str());
      if (sender_opts.max_attempts <= 0 || absl::StrCat(sender_opts.max_attempts) != v) {
        return Fail(absl::StrCat("--alert-max-attempts: '", v, "' is not a positive integer"));
      }
    } else if (a == "--alert-timeout" && value(&v)) {
      auto d = dag::ParseDuration(v);
      if (!d.ok() || *d <= absl::ZeroDuration()) {
        return Fail(absl::StrCat(a, ": '", v, "' is not a positive duration (e.g. 10s)"));
      }
      sender_opts.timeout = *d;
    } else if (a == "--sync" && value(&v)) {
      if (v != "full" && v != "normal") {
        return Fail(absl::StrCat("--sync: '", v, "' is not full or normal"));
      }
      store::SetSyncMode(v == "full" ? store::SyncMode::kFull : store::SyncMode::kNormal);
    } else if (a == "--http" && value(&http_listen)) {
    } else if (a == "--log-format" && value(&log_format)) {
    } else if (a == "--log-level" && value(&log_level)) {
    } else if (a == "--pool" && value(&v)) {
      size_t eq = v.find('=');
      int slots = eq == std::string::npos ? 0 : std::atoi(v.c_str() + eq + 1);
      if (eq == std::string::npos || eq == 0 || slots <= 0) {
        return Fail(absl::StrCat("--pool: '", v, "' is not NAME=SLOTS with SLOTS > 0"));
      }
      opts.pool_slots[v.substr(0, eq)] = slots;
    } else if (a == "--max-log-bytes" && value(&v)) {
      auto n = dag::ParseByteSize(v);
      if (!n.ok() || *n < 0) {
        return Fail(absl::StrCat("--max-log-bytes: '", v, "' is not a size like 100MB"));
      }
      opts.max_log_bytes = *n;
    } else if ((a == "--lease" || a == "--heartbeat") && value(&v)) {
      auto d = dag::ParseDuration(v);
      if (!d.ok() || *d <= absl::ZeroDuration()) {
        return Fail(absl::StrCat(a, ": '", v, "' is not a positive duration (e.g. 10s)"));
      }
      (a == "--lease" ? opts.lease : opts.heartbeat) = *d;
    } else {
      std::cerr << "de-scheduler: unknown or incomplete option '" << a << "'\n";
      std::fprintf(stderr, kUsage, auth::kSecurityUsage);
      return 2;
    }
  }
  if (absl::Status st = common::InitLogging("de-scheduler", log_format, log_level); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  if (ec) return Fail(absl::StrCat("cannot create DE_HOME ", home, ": ", ec.message()));
  home = std::filesystem::absolute(home).lexically_normal().string();
  opts.de_home = home;
  // Before anything touches the database or the address files of a scheduler that may be running.
  if (absl::Status st = LockHome(home); !st.ok()) return Fail(std::string(st.message()));
  // On PostgreSQL, also one scheduler per database (held until exit).
  std::unique_ptr<store::Db> store_lock;
  if (!store_url.empty()) {
    auto held = store::HoldSchedulerLock(store_url);
    if (!held.ok()) return Fail(std::string(held.status().message()));
    store_lock = std::move(*held);
  }

  if (!alerts_file.empty()) {
    auto defaults = LoadAlertsFile(alerts_file);
    if (!defaults.ok()) return Fail(std::string(defaults.status().message()));
    alert_opts.defaults = std::move(*defaults);
  }
  alert_opts.de_home = home;
  while (!alert_opts.link_base.empty() && alert_opts.link_base.back() == '/') {
    alert_opts.link_base.pop_back();
  }

  // The database: DIR/de.db (SQLite), or --store's PostgreSQL. Every component opens its own
  // connection to it.
  const std::string db_path = store_url.empty() ? home + "/de.db" : store_url;
  const std::string db_shown = store_url.empty() ? db_path : store::RedactPgUrl(store_url);
  auto store = store::Store::Open(db_path);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  auto security = auth::Security::Open(security_opts, db_path, listen, http_listen);
  if (!security.ok()) return Fail(std::string(security.status().message()));
  auto last_success = (*store)->LastSuccessTimes();
  if (!last_success.ok()) return Fail(std::string(last_success.status().message()));
  // Metrics exist only with the HTTP listener that serves them; both outlive the scheduler.
  std::unique_ptr<metrics::Metrics> metrics;
  http::HttpServer http_server;
  if (!http_listen.empty()) {
    metrics = std::make_unique<metrics::Metrics>();
    metrics->SetLastSuccess(*last_success);
  }
  // Alerts: the outbox listener writes deliveries in each transition's transaction; the sender
  // (its own thread and SQLite connection) delivers them, including any left by a crash.
  metrics::Metrics* m = metrics.get();
  sender_opts.on_attempt = [m](const std::string& channel, const std::string& outcome) {
    if (m != nullptr) m->AlertDelivered(channel, AlertOutcomeLabel(outcome));
  };
  auto sender = alerts::AlertSender::Open(db_path, common::SystemClock::Get(), sender_opts);
  if (!sender.ok()) return Fail(std::string(sender.status().message()));
  alerts::AlertOutbox outbox(alert_opts, common::SystemClock::Get(),
                             [s = sender->get()] { s->Wake(); });
  alerts::AlertService alert_service(db_path, &outbox);
  auto vault = OpenVault(secrets_key.empty() ? home + "/secrets.key" : secrets_key, db_path);
  if (!vault.ok()) return Fail(std::string(vault.status().message()));
  sched::Scheduler scheduler(std::move(*store), common::SystemClock::Get(), opts);
  scheduler.SetVault(vault->get());
  scheduler.AddEventListener(&outbox);
  if (m != nullptr) {
    scheduler.AddEventListener(m);
    scheduler.SetObserver(m);
    http_server.Route("/metrics", [m] {
      http::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = m->Render();
      return r;
    });
  }
  if (absl::Status st = scheduler.Recover(); !st.ok()) {
    return Fail(absl::StrCat("cannot resume from ", db_shown, ": ", st.message()));
  }

  api::OperatorService operator_service(&scheduler, &alert_service);
  // A silent stream is closed after a lease: a worker registers at once.
  api::WorkerSessionService worker_service(&scheduler, std::max(opts.lease, absl::Seconds(1)));
  vault::VaultService vault_service(vault->get());
  // The JSON API and the page, on the same listener as /metrics (stopped before they go).
  http::Api http_api(&scheduler, &alert_service, (*security)->audit(), db_path);
  if (!http_listen.empty()) {
    http_api.Register(&http_server);
    http::RegisterWebRoutes(&http_server);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, (*security)->GrpcCredentials(), &port);
  (*security)->Install(&builder);
  builder.RegisterService(&operator_service);
  builder.RegisterService(&worker_service);
  builder.RegisterService(&vault_service);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);  // RESOURCE_EXHAUSTED beyond
  // Each call (a worker session for its whole life) holds a server thread: bound them, so a
  // flood of connections cannot grow the process without limit.
  grpc::ResourceQuota quota("de-scheduler");
  quota.SetMaxThreads(kMaxGrpcThreads);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return Fail(absl::StrCat("cannot listen on ", listen));
  std::string host = listen.substr(0, listen.rfind(':'));
  std::string bound = absl::StrCat(host, ":", port);

  std::string http_bound;
  if (!http_listen.empty()) {
    absl::Status tls = (*security)->Install(&http_server);
    auto b = tls.ok() ? http_server.Start(http_listen) : absl::StatusOr<std::string>(tls);
    if (!b.ok()) {
      server->Shutdown();
      return Fail(std::string(b.status().message()));
    }
    http_bound = *b;
    scheduler.SampleState();
  }
  scheduler.Start();
  (*sender)->Start();
  std::filesystem::remove(home + "/http.addr", ec);
  absl::Status published = absl::OkStatus();
  if (!http_bound.empty()) published = PublishFile(home, "http.addr", http_bound);
  if (published.ok()) published = PublishFile(home, "scheduler.addr", bound);
  if (!published.ok()) {
    // Clients and workers find the scheduler through this file: without it nobody can.
    (*sender)->Stop();
    scheduler.Stop();
    http_server.Stop();
    server->Shutdown();
    return Fail(std::string(published.message()));
  }
  spdlog::info("de-scheduler {} listening on {} (home {}), HTTP {}", common::Version(), bound, home,
               http_bound.empty() ? "off"
                                  : ((*security)->tls() ? "https://" : "http://") + http_bound + "/");

  struct StopHttp {
    http::HttpServer* s;
    ~StopHttp() { s->Stop(); }
  } stop_http{&http_server};   // before http_api goes, on every return
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) (*security)->Reload();
    spdlog::info("signal {} received; shutting down", sig);
    scheduler.CloseWorkerSessions();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  });
  server->Wait();
  http_server.Stop();
  scheduler.Stop();
  (*sender)->Stop();
  (*security)->Flush();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  std::filesystem::remove(home + "/scheduler.addr", ec);
  std::filesystem::remove(home + "/http.addr", ec);
  return 0;
}

}  // namespace de::server
