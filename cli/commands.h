// Internal to dectl: the state one command invocation shares, and the functions that add each
// command group to the CLI11 parser. Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "google/protobuf/message.h"

namespace de::cli {

struct Context {
  explicit Context(Io& io_in) : io(io_in) {}

  Io& io;
  GlobalOptions options;
  // The command chosen by the parser; runs after parsing succeeded.
  std::function<int()> action;

  std::ostream& out() { return io.out; }
  std::ostream& err() { return io.err; }
  bool json() const { return options.output == "json"; }
  // Colours in what is printed: out is a terminal and NO_COLOR is not set.
  bool colour() const { return io.out_is_tty && !io.no_color; }
  // The connection, made on first use (so offline commands never touch the network).
  Client& client();
  // Prints "dectl: MESSAGE" and returns kExitUsage.
  int UsageError(const absl::Status& status);
  // Prints "dectl: MESSAGE" and returns kExitFailed.
  int Failed(const std::string& message);
  // Prints `message` as JSON and returns kExitOk.
  int PrintJson(const google::protobuf::Message& message);

 private:
  std::unique_ptr<Client> client_;
};

// Makes `sub` run `fn` when it is the command given (sets Context::action when parsed).
void OnRun(CLI::App* sub, Context& ctx, std::function<int()> fn);

// One function per command group (one file each).
void AddDagCommands(CLI::App& app, Context& ctx);       // dag ..., pause, unpause  (dag.cc)
void AddRunCommands(CLI::App& app, Context& ctx);       // trigger, runs ..., clear (runs.cc)
void AddLogCommands(CLI::App& app, Context& ctx);       // logs                    (logs.cc)
void AddWorkerCommands(CLI::App& app, Context& ctx);    // workers                 (workers.cc)
void AddBackfillCommands(CLI::App& app, Context& ctx);  // backfill ...            (backfill.cc)
void AddAlertCommands(CLI::App& app, Context& ctx);     // alerts list|test        (alerts.cc)
void AddVaultCommands(CLI::App& app, Context& ctx);     // var ..., secret ... (vault.cc)
void AddTokenCommands(CLI::App& app, Context& ctx);     // token create|list|revoke (token.cc)
void AddAuditCommands(CLI::App& app, Context& ctx);     // audit                   (audit.cc)
void AddDbCommands(CLI::App& app, Context& ctx);        // db clean                (db.cc)
// Under `dag` (AddDagCommands adds them): offline commands on a DAG file.
void AddDagRenderCommand(CLI::App& dag, Context& ctx);  // dag render              (dag_render.cc)
void AddDagTestCommand(CLI::App& dag, Context& ctx);    // dag test                (dag_test.cc)

// Milliseconds since the epoch, now.
int64_t NowMs();

}  // namespace de::cli
