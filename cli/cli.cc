// dectl's parser and dispatcher: global options, the command tree, exit codes.
#include "cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"
#include "common/version.h"

namespace de::cli {

Client& Context::client() {
  if (!client_) client_ = std::make_unique<Client>(options);
  return *client_;
}

int Context::UsageError(const absl::Status& status) {
  err() << "dectl: " << status.message() << "\n";
  return kExitUsage;
}

int Context::Failed(const std::string& message) {
  err() << "dectl: " << message << "\n";
  return kExitFailed;
}

int Context::PrintJson(const google::protobuf::Message& message) {
  out() << ToJson(message);
  return kExitOk;
}

void OnRun(CLI::App* sub, Context& ctx, std::function<int()> fn) {
  // Subcommand callbacks run innermost first, so a nested command (`backfill list`) wins over
  // its parent (`backfill DAG ...`).
  sub->callback([&ctx, fn = std::move(fn)] {
    if (!ctx.action) ctx.action = fn;
  });
}

namespace {

// Without --server or DE_SERVER: the address a scheduler on DE_HOME (default ./de-home)
// published, if it did; the default 127.0.0.1:7070 otherwise.
void UseAddressFile(GlobalOptions& options) {
  const char* home = std::getenv("DE_HOME");
  const std::string path =
      std::string(home != nullptr && *home != '\0' ? home : "./de-home") + "/scheduler.addr";
  std::string addr = ReadAddressFile(path);
  if (addr.empty()) return;
  options.server = addr;
  options.address_file = path;
}

}  // namespace

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

int Run(const std::vector<std::string>& args, Io& io) {
  Context ctx(io);
  bool server_from_env = false;
  if (const char* s = std::getenv("DE_SERVER"); s != nullptr && *s != '\0') {
    ctx.options.server = s;
    server_from_env = true;
  }
  if (const char* t = std::getenv("DE_TOKEN"); t != nullptr) ctx.options.token = t;
  if (const char* t = std::getenv("DE_TLS_CA"); t != nullptr) ctx.options.tls_ca = t;
  std::string timeout = "30s";
  bool show_version = false;

  CLI::App app("dectl: the operator's tool for de-scheduler (DAGs, runs, logs, backfills)",
               "dectl");
  app.fallthrough();
  app.require_subcommand(0, 1);
  CLI::Option* server_flag =
      app.add_option("--server", ctx.options.server,
                     "scheduler address HOST:PORT (env DE_SERVER; else DE_HOME/scheduler.addr "
                     "when that file exists)")
          ->capture_default_str();
  app.add_option("--output,-o", ctx.options.output, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--token", ctx.options.token, "bearer token (env DE_TOKEN)");
  app.add_option("--tls-ca", ctx.options.tls_ca,
                 "connect over TLS, trusting this CA certificate (PEM; env DE_TLS_CA)");
  app.add_option("--timeout", timeout, "deadline of each call to the scheduler")
      ->capture_default_str();
  app.add_flag("--version", show_version, "print dectl's version");

  AddDagCommands(app, ctx);
  AddRunCommands(app, ctx);
  AddLogCommands(app, ctx);
  AddWorkerCommands(app, ctx);
  AddBackfillCommands(app, ctx);
  AddAlertCommands(app, ctx);
  AddTokenCommands(app, ctx);
  AddVaultCommands(app, ctx);
  AddAuditCommands(app, ctx);
  AddDbCommands(app, ctx);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      app.exit(e, io.out, io.err);
      return kExitOk;
    }
    // Point at the help of the deepest command that was recognized.
    std::string command = "dectl";
    for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
      at = at->get_subcommands().front();
      command += " " + at->get_name();
    }
    io.err << "dectl: " << e.what() << "\n(run '" << command << " --help' for usage)\n";
    return kExitUsage;
  }
  if (show_version) {
    io.out << "dectl " << de::common::Version() << "\n";
    return kExitOk;
  }
  if (server_flag->count() == 0 && !server_from_env) UseAddressFile(ctx.options);
  auto parsed_timeout = ParseTimeout(timeout);
  if (!parsed_timeout.ok()) return ctx.UsageError(parsed_timeout.status());
  ctx.options.timeout = *parsed_timeout;
  if (!ctx.options.tls_ca.empty() && ::access(ctx.options.tls_ca.c_str(), R_OK) != 0) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "--tls-ca: cannot read " + ctx.options.tls_ca));
  }
  if (!ctx.action) {
    io.err << app.help();
    return kExitUsage;
  }
  return ctx.action();
}

int Main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  Io io{out, err};
  return Run(std::vector<std::string>(argv + std::min(argc, 1), argv + argc), io);
}

int Main(int argc, char** argv) {
  Io io{std::cout, std::cerr};
  io.out_is_tty = ::isatty(STDOUT_FILENO) == 1;
  io.in = &std::cin;
  io.in_is_tty = ::isatty(STDIN_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org
  io.no_color = no_color != nullptr && *no_color != '\0';
  int code = Run(std::vector<std::string>(argv + std::min(argc, 1), argv + argc), io);
  std::cout.flush();
  return code;
}

}  // namespace de::cli
