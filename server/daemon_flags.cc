#include "server/daemon_flags.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/dag/loader.h"
#include "common/dag/param_values.h"
#include "common/version.h"
#include "server/store/postgres.h"

namespace de::server {
namespace {

constexpr char kUsage[] = R"(usage: de-scheduler [options]

  --home DIR           state folder: SQLite database, task logs (env DE_HOME; default ./de-home)
  --store URL          keep the state in PostgreSQL instead of DIR/de.db: postgresql://USER@HOST/DB
                       or postgres://... (libpq URL; a password may also come from ~/.pgpass or
                       PGPASSWORD). Task logs (--logs) and the secrets key (--secrets-key) stay
                       files: schedulers sharing a database must all reach the same ones.
  --logs DIR           task logs, DIR/RUN/TASK/TRY.log (default DE_HOME/logs); with several
                       schedulers on one --store, a folder they share (NFS, a mounted volume)
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
  --leader-lease DURATION  with --store: schedulers sharing the database elect one leader; the
                       others are standbys that serve reads and take over this long after
                       the leader is gone (default 5s)
  --advertise HOST:PORT  with --store: the gRPC address standbys point clients and workers at
                       (default: the address bound)
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

std::optional<int> Bad(const std::string& msg) {
  std::cerr << "de-scheduler: " << msg << "\n";
  return 1;
}

// One flag that takes a value (`value(&s)` reads it); false when `a` is none of them.
template <typename Value>
std::optional<std::optional<int>> ParseValueFlag(const std::string& a, Value value,
                                                 DaemonFlags* f) {
  std::string v;
  if (a == "--home" && value(&f->home)) {
  } else if (a == "--listen" && value(&f->listen)) {
  } else if (a == "--alerts-file" && value(&f->alerts_file)) {
  } else if (a == "--secrets-key" && value(&f->secrets_key)) {
  } else if (a == "--store" && value(&f->store_url)) {
    if (!store::IsPostgresUrl(f->store_url)) {
      return Bad(absl::StrCat("--store: '", store::RedactPgUrl(f->store_url),
                               "' is not a postgresql:// or postgres:// URL"));
    }
  } else if (a == "--alert-link-base" && value(&f->alert_opts.link_base)) {
  } else if (a == "--alert-max-attempts" && value(&v)) {
    f->sender_opts.max_attempts = std::atoi(v.c_str());
    if (f->sender_opts.max_attempts <= 0 || absl::StrCat(f->sender_opts.max_attempts) != v) {
      return Bad(absl::StrCat("--alert-max-attempts: '", v, "' is not a positive integer"));
    }
  } else if (a == "--alert-timeout" && value(&v)) {
    auto d = dag::ParseDuration(v);
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return Bad(absl::StrCat(a, ": '", v, "' is not a positive duration (e.g. 10s)"));
    }
    f->sender_opts.timeout = *d;
  } else if (a == "--sync" && value(&v)) {
    if (v != "full" && v != "normal") {
      return Bad(absl::StrCat("--sync: '", v, "' is not full or normal"));
    }
    f->sync = (v == "full" ? store::SyncMode::kFull : store::SyncMode::kNormal);
  } else if (a == "--http" && value(&f->http_listen)) {
  } else if (a == "--log-format" && value(&f->log_format)) {
  } else if (a == "--log-level" && value(&f->log_level)) {
  } else if (a == "--pool" && value(&v)) {
    size_t eq = v.find('=');
    int slots = eq == std::string::npos ? 0 : std::atoi(v.c_str() + eq + 1);
    if (eq == std::string::npos || eq == 0 || slots <= 0) {
      return Bad(absl::StrCat("--pool: '", v, "' is not NAME=SLOTS with SLOTS > 0"));
    }
    f->opts.pool_slots[v.substr(0, eq)] = slots;
  } else if (a == "--max-log-bytes" && value(&v)) {
    auto n = dag::ParseByteSize(v);
    if (!n.ok() || *n < 0) {
      return Bad(absl::StrCat("--max-log-bytes: '", v, "' is not a size like 100MB"));
    }
    f->opts.max_log_bytes = *n;
  } else if ((a == "--lease" || a == "--heartbeat") && value(&v)) {
    auto d = dag::ParseDuration(v);
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return Bad(absl::StrCat(a, ": '", v, "' is not a positive duration (e.g. 10s)"));
    }
    (a == "--lease" ? f->opts.lease : f->opts.heartbeat) = *d;
  } else if (a == "--advertise" && value(&f->advertise)) {
  } else if (a == "--logs" && value(&f->logs_dir)) {
    if (f->logs_dir.empty()) return Bad("--logs: needs a folder");
  } else if (a == "--leader-lease" && value(&v)) {
    auto d = dag::ParseDuration(v);
    if (!d.ok() || *d < absl::Milliseconds(200)) {
      return Bad(absl::StrCat(a, ": '", v, "' is not a duration of at least 200ms (e.g. 5s)"));
    }
    f->leader_lease = *d;
  } else {
    return std::nullopt;
  }
  return std::optional<int>();
}

}  // namespace

std::optional<int> ParseDaemonFlags(int argc, char** argv, DaemonFlags* f) {
  const char* env_home = std::getenv("DE_HOME");
  f->home = env_home ? env_home : "./de-home";
  std::string flag_error;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (auth::ParseSecurityFlag(a, value, &f->security_opts, &flag_error)) {
      if (!flag_error.empty()) return Bad(flag_error);
      continue;
    }
    if (a == "--help" || a == "-h") {
      std::printf(kUsage, auth::kSecurityUsage);
      return 0;
    }
    if (a == "--version") {
      std::cout << "de-scheduler " << common::Version() << "\n";
      return 0;
    }
    if (auto r = ParseValueFlag(a, value, f)) {
      if (r->has_value()) return *r;
      continue;
    }
    std::cerr << "de-scheduler: unknown or incomplete option '" << a << "'\n";
    std::fprintf(stderr, kUsage, auth::kSecurityUsage);
    return 2;
  }
  return std::nullopt;
}

}  // namespace de::server
