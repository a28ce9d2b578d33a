// dectl alerts list | test: alert deliveries (the scheduler's outbox) and test events.
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace de::cli {
namespace {

struct AlertsOptions {
  std::string dag;
  bool failed = false;
  int limit = 50;
};

std::string Status(const de::v1::AlertDelivery& a) {
  return a.last_status() == 0 ? "-" : absl::StrCat(a.last_status());
}

void PrintDeliveries(Context& ctx, const google::protobuf::RepeatedPtrField<de::v1::AlertDelivery>&
                                       alerts) {
  Table table({"ID", "CREATED", "DAG", "RUN", "TASK", "EVENT", "CHANNEL", "STATE", "ATTEMPTS",
               "STATUS", "NEXT TRY", "ERROR"});
  for (const auto& a : alerts) {
    table.AddRow({absl::StrCat(a.id()), FormatTime(a.created_at_ms()), a.dag_id(),
                  a.run_id().empty() ? "-" : a.run_id(), a.task_id().empty() ? "-" : a.task_id(),
                  a.event(), a.channel(), a.state(), absl::StrCat(a.attempts()), Status(a),
                  a.state() == "pending" ? FormatTime(a.next_attempt_at_ms()) : "-",
                  a.last_error().empty() ? "-" : Abbreviate(a.last_error(), 60)});
  }
  table.Print(ctx.out());
}

int List(Context& ctx, const AlertsOptions& o) {
  de::v1::ListAlertsRequest request;
  request.set_dag_id(o.dag);
  request.set_failed_only(o.failed);
  request.set_limit(o.limit);
  de::v1::ListAlertsResponse response;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->ListAlerts(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  if (response.alerts().empty()) {
    ctx.out() << (o.failed ? "no failed alert deliveries\n" : "no alert deliveries\n");
    return kExitOk;
  }
  PrintDeliveries(ctx, response.alerts());
  return kExitOk;
}

int Test(Context& ctx, const std::string& dag) {
  de::v1::TestAlertRequest request;
  request.set_dag_id(dag);
  de::v1::TestAlertResponse response;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->TestAlert(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "queued " << response.alerts_size() << " test "
            << (response.alerts_size() == 1 ? "delivery" : "deliveries") << " for " << dag
            << " (see 'dectl alerts list --dag " << dag << "')\n";
  PrintDeliveries(ctx, response.alerts());
  return kExitOk;
}

}  // namespace

void AddAlertCommands(CLI::App& app, Context& ctx) {
  CLI::App* alerts = app.add_subcommand("alerts", "alert deliveries: list, test");
  alerts->require_subcommand(1);
  auto list_opts = std::make_shared<AlertsOptions>();
  CLI::App* list = alerts->add_subcommand("list", "alert deliveries, newest first");
  list->add_option("--dag", list_opts->dag, "only this DAG's");
  list->add_flag("--failed", list_opts->failed, "only deliveries that failed for good");
  list->add_option("--limit", list_opts->limit, "at most this many")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  OnRun(list, ctx, [&ctx, list_opts] { return List(ctx, *list_opts); });
  auto dag = std::make_shared<std::string>();
  CLI::App* test = alerts->add_subcommand("test", "send a test event through a DAG's alert hooks");
  test->add_option("DAG", *dag, "the DAG")->required();
  OnRun(test, ctx, [&ctx, dag] { return Test(ctx, *dag); });
}

}  // namespace de::cli
