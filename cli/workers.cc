// dectl workers: the workers the scheduler knows.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace de::cli {
namespace {

int Workers(Context& ctx) {
  de::v1::ListWorkersRequest request;
  de::v1::ListWorkersResponse response;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->ListWorkers(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  int64_t now = NowMs();
  Table table({"NAME", "STATE", "SLOTS", "BUSY", "POOLS", "VERSION", "LAST SEEN"});
  for (const auto& w : response.workers()) {
    std::string seen = FormatTime(w.last_seen_ms());
    if (w.last_seen_ms() != 0 && now >= w.last_seen_ms()) {
      absl::StrAppend(&seen, " (", FormatDuration(now - w.last_seen_ms()), " ago)");
    }
    table.AddRow({w.name(), w.state(), absl::StrCat(w.slots()), absl::StrCat(w.busy()),
                  w.pools().empty() ? "-" : absl::StrJoin(w.pools(), ","),
                  w.version().empty() ? "-" : w.version(), seen});
  }
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace

void AddWorkerCommands(CLI::App& app, Context& ctx) {
  CLI::App* workers = app.add_subcommand("workers", "list workers, their slots and pools");
  OnRun(workers, ctx, [&ctx] { return Workers(ctx); });
}

}  // namespace de::cli
