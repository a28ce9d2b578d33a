#include "server/daemon.h"

#include "server/daemon_flags.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <atomic>
#include <unistd.h>

#include <cstring>

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
#include "server/ha/leadership.h"
#include "server/ha/restart.h"
#include "server/http/api_routes.h"
#include "server/home_lock.h"
#include "server/http/http_server.h"
#include "server/http/web_routes.h"
#include "server/metrics/metrics.h"
#include "server/sched/scheduler.h"
#include "server/store/leader_lease.h"
#include "server/store/postgres.h"
#include "server/store/store.h"
#include "server/vault/vault.h"
#include "server/vault/vault_service.h"
#include "spdlog/spdlog.h"

namespace de::server {
namespace {

// The leader while it leads, for the fenced handler (a plain function: store/db.h).
std::atomic<ha::Leadership*> g_leadership{nullptr};
void OnFenced() {
  if (ha::Leadership* l = g_leadership.load()) {
    l->Deposed("the database refused a write as fenced: another scheduler leads now");
  }
}

// Who this scheduler is in the lease row: its host and DE_HOME (locked by this process, so a
// row naming them is this scheduler's own previous life).
std::string HolderName(const std::string& home) {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return absl::StrCat(host, ":", home);
}

// The files through which local clients find the leading scheduler (a standby has none).
void RemoveAddressFiles(const std::string& home) {
  std::error_code ignored;
  std::filesystem::remove(home + "/scheduler.addr", ignored);
  std::filesystem::remove(home + "/http.addr", ignored);
}

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
  DaemonFlags flags;
  if (std::optional<int> code = ParseDaemonFlags(argc, argv, &flags)) return *code;
  store::SetSyncMode(flags.sync);
  std::string& home = flags.home;
  const std::string& listen = flags.listen;
  const std::string& http_listen = flags.http_listen;
  const std::string& store_url = flags.store_url;
  sched::SchedulerOptions& opts = flags.opts;
  alerts::OutboxOptions& alert_opts = flags.alert_opts;
  alerts::SenderOptions& sender_opts = flags.sender_opts;
  if (absl::Status st = common::InitLogging("de-scheduler", flags.log_format, flags.log_level); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  if (ec) return Fail(absl::StrCat("cannot create DE_HOME ", home, ": ", ec.message()));
  home = std::filesystem::absolute(home).lexically_normal().string();
  std::string logs_dir = flags.logs_dir.empty() ? home + "/logs" : flags.logs_dir;
  logs_dir = std::filesystem::absolute(logs_dir).lexically_normal().string();
  opts.logs_dir = logs_dir;
  // A shared folder that is not mounted must stop the start, not lose every task's log.
  std::filesystem::create_directories(logs_dir, ec);
  if (ec || access(logs_dir.c_str(), W_OK) != 0) {
    return Fail(absl::StrCat("cannot write task logs to ", logs_dir,
                             flags.logs_dir.empty() ? "" : " (--logs)", ": ",
                             ec ? ec.message() : std::strerror(errno)));
  }
  // Before anything touches the database or the address files of a scheduler that may be running.
  if (absl::Status st = LockHome(home); !st.ok()) return Fail(std::string(st.message()));

  if (!flags.alerts_file.empty()) {
    auto defaults = LoadAlertsFile(flags.alerts_file);
    if (!defaults.ok()) return Fail(std::string(defaults.status().message()));
    alert_opts.defaults = std::move(*defaults);
  }
  alert_opts.logs_dir = logs_dir;
  while (!alert_opts.link_base.empty() && alert_opts.link_base.back() == '/') {
    alert_opts.link_base.pop_back();
  }

  // The database: DIR/de.db (SQLite), or --store's PostgreSQL. Every component opens its own
  // connection to it.
  const std::string db_path = store_url.empty() ? home + "/de.db" : store_url;
  const std::string db_shown = store_url.empty() ? db_path : store::RedactPgUrl(store_url);
  // The scheduler's own connection syncs behind its commits (wal_sync.h): what reports a commit
  // (services.cc) waits for its sync, not the scheduling lock.
  auto store = store::Store::Open(db_path, /*defer_sync=*/true);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  auto security = auth::Security::Open(flags.security_opts, db_path, listen, http_listen);
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
  sender_opts.await_durable = [db = (*store)->db()] { return db->AwaitCommitted(); };
  auto sender = alerts::AlertSender::Open(db_path, common::SystemClock::Get(), sender_opts);
  if (!sender.ok()) return Fail(std::string(sender.status().message()));
  alerts::AlertOutbox outbox(alert_opts, common::SystemClock::Get(),
                             [s = sender->get()] { s->Wake(); });
  alerts::AlertService alert_service(db_path, &outbox);
  auto vault = OpenVault(flags.secrets_key.empty() ? home + "/secrets.key" : flags.secrets_key, db_path);
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
  // On PostgreSQL, schedulers sharing the database elect a leader (server/ha/leadership.h):
  // this one serves reads as a standby until it holds the lease, and only then loads the state.
  std::unique_ptr<ha::Leadership> leadership;
  if (!store_url.empty()) {
    auto lease = store::LeaderLease::Open(store_url, HolderName(home), flags.leader_lease);
    if (!lease.ok()) return Fail(std::string(lease.status().message()));
    ha::LeadershipOptions lo;
    lo.lease = flags.leader_lease;
    leadership = std::make_unique<ha::Leadership>(std::move(*lease), lo);
    (*security)->SetChangeGate(leadership.get());
    g_leadership.store(leadership.get());
    store::SetFencedHandler(&OnFenced);
    store::SetWriteEpoch(-1);   // a standby writes nothing
  } else if (absl::Status st = scheduler.Recover(); !st.ok()) {
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
  struct StopHttp {
    http::HttpServer* s;
    ~StopHttp() { s->Stop(); }
  } stop_http{&http_server};   // before http_api goes, on every return
  std::atomic<bool> shutting_down{false};
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) (*security)->Reload();
    spdlog::info("signal {} received; shutting down", sig);
    shutting_down.store(true);
    if (leadership != nullptr && !leadership->leading()) leadership->Stop();   // ends the wait
    // Timers first: while the sessions close and gRPC drains, no lease may expire (the workers
    // are cut off by us, not lost) and nothing new is dispatched. The next scheduler gives each
    // worker a lease to come back with its attempts.
    scheduler.Stop();
    scheduler.CloseWorkerSessions();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  });
  int exit_code = 0;
  auto give_up = [&](const std::string& msg) {
    std::cerr << "de-scheduler: " << msg << "\n";
    exit_code = 1;
    shutting_down.store(true);
    server->Shutdown();
  };
  bool lead = true;
  if (leadership != nullptr) {
    leadership->SetAddresses(flags.advertise.empty() ? bound : flags.advertise, http_bound);
    RemoveAddressFiles(home);   // a previous life's (kill -9): local clients must not come here
    spdlog::info("de-scheduler {} on {} (home {}, store {}): a standby until it leads",
                 common::Version(), bound, home, db_shown);
    // Deposed (another scheduler took the lease, or the database refused a write as fenced):
    // start again as a standby, with none of this leadership's state.
    const int64_t epoch = leadership->WaitToLead([argv, &home, &shutting_down](const std::string&) {
      if (shutting_down.load()) return;
      RemoveAddressFiles(home);   // not the leader while it restarts
      ha::RestartSelf(argv);
    });
    lead = epoch > 0 && !shutting_down.load();
    if (lead) {
      store::SetWriteEpoch(epoch);
      if (absl::Status st = scheduler.Recover(); !st.ok()) {
        give_up(absl::StrCat("cannot resume from ", db_shown, ": ", st.message()));
        lead = false;
      } else {
        leadership->OpenForChanges();
      }
    }
  }
  if (lead) {
    scheduler.Start();
    (*sender)->Start();
    std::filesystem::remove(home + "/http.addr", ec);
    absl::Status published = absl::OkStatus();
    if (!http_bound.empty()) published = PublishFile(home, "http.addr", http_bound);
    if (published.ok()) published = PublishFile(home, "scheduler.addr", bound);
    if (!published.ok()) {
      // Clients and workers find the scheduler through this file: without it nobody can.
      give_up(std::string(published.message()));
    } else {
      spdlog::info("de-scheduler {} listening on {} (home {}), HTTP {}", common::Version(), bound,
                   home, http_bound.empty() ? "off"
                                            : ((*security)->tls() ? "https://" : "http://") +
                                                  http_bound + "/");
    }
  }
  server->Wait();
  shutting_down.store(true);
  http_server.Stop();
  scheduler.Stop();
  (*sender)->Stop();
  (*security)->Flush();
  if (leadership != nullptr) leadership->Stop();   // gives the lease up: a standby leads at once
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  RemoveAddressFiles(home);
  return exit_code;
}

}  // namespace de::server
