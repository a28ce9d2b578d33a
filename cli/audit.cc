// dectl audit: the audit trail of every change (admin only).
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/parse.h"
#include "common/dag/loader.h"

namespace de::cli {
namespace {

struct AuditOptions {
  std::string since;
  std::string dag;
  int limit = 50;
};

// "1h" (that long ago) or a date/time (parse.h ParseDateMs).
absl::StatusOr<int64_t> ParseSince(const std::string& text) {
  if (auto d = dag::ParseDuration(text); d.ok() && *d > absl::ZeroDuration()) {
    return NowMs() - absl::ToInt64Milliseconds(*d);
  }
  auto date = ParseDateMs(text);
  if (!date.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--since: '", text, "' is neither a duration (1h, 7d) nor a date (2024-01-31)"));
  }
  return *date;
}

int Audit(Context& ctx, const AuditOptions& o) {
  de::v1::ListAuditRequest request;
  if (!o.since.empty()) {
    auto since = ParseSince(o.since);
    if (!since.ok()) return ctx.UsageError(since.status());
    request.set_since_ms(*since);
  }
  request.set_dag_id(o.dag);
  request.set_limit(o.limit);
  de::v1::ListAuditResponse response;
  grpc::Status status = ctx.client().CallAuth(
      [&](auto* stub, auto* c) { return stub->ListAudit(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  if (response.entries().empty()) {
    ctx.out() << "no audit entries\n";
    return kExitOk;
  }
  Table table({"TIME", "WHO", "FROM", "METHOD", "DAG", "OUTCOME", "ARGS"});
  for (const auto& e : response.entries()) {
    std::string outcome = e.outcome();
    if (!e.error().empty()) absl::StrAppend(&outcome, ": ", Abbreviate(e.error(), 60));
    table.AddRow({FormatTime(e.at_ms()), e.who(), e.peer(), e.method(),
                  e.dag_id().empty() ? "-" : e.dag_id(), outcome, Abbreviate(e.args(), 80)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace

void AddAuditCommands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<AuditOptions>();
  CLI::App* audit = app.add_subcommand("audit", "who changed what, when, from where (admin)");
  audit->add_option("--since", o->since, "only entries since 1h ago, 7d ago, or a date");
  audit->add_option("--dag", o->dag, "only this DAG's");
  audit->add_option("--limit", o->limit, "at most this many (newest first)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  OnRun(audit, ctx, [&ctx, o] { return Audit(ctx, *o); });
}

}  // namespace de::cli
