// de-scheduler's command line: every flag, its default and its check, into DaemonFlags.
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/alerts/outbox.h"
#include "server/alerts/sender.h"
#include "server/auth/security.h"
#include "server/sched/scheduler.h"
#include "server/store/db.h"

namespace de::server {

struct DaemonFlags {
  std::string home;                 // --home, env DE_HOME, ./de-home
  std::string listen = "127.0.0.1:7070";
  std::string http_listen = "127.0.0.1:9464";
  std::string log_format = "text", log_level = "info";
  sched::SchedulerOptions opts;
  alerts::OutboxOptions alert_opts;
  alerts::SenderOptions sender_opts;
  std::string alerts_file;
  std::string secrets_key;
  std::string store_url;            // empty: SQLite in DIR/de.db
  auth::SecurityOptions security_opts;
  store::SyncMode sync = store::SyncMode::kFull;
  // Several schedulers on one PostgreSQL (server/ha/leadership.h).
  absl::Duration leader_lease = absl::Seconds(5);
  std::string logs_dir;             // --logs; empty: DE_HOME/logs
  std::string advertise;            // the gRPC address others reach this one at (default: bound)
};

// Parses argv into *f. Returns the exit code when the process ends here (--help, --version, a
// bad flag, which is reported on stderr), nullopt to go on.
std::optional<int> ParseDaemonFlags(int argc, char** argv, DaemonFlags* f);

}  // namespace de::server
