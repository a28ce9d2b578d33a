// dectl token create | list | revoke: bearer tokens with roles (admin only).
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "common/dag/loader.h"

namespace de::cli {
namespace {

struct CreateOptions {
  std::string name;
  std::string role;
  std::string expires;
};

int Create(Context& ctx, const CreateOptions& o) {
  de::v1::CreateTokenRequest request;
  request.set_name(o.name);
  request.set_role(o.role);
  if (!o.expires.empty()) {
    auto d = dag::ParseDuration(o.expires);
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("--expires: '", o.expires, "' is not a positive duration (e.g. 90d, 12h)")));
    }
    request.set_expires_in_ms(absl::ToInt64Milliseconds(*d));
  }
  de::v1::CreateTokenResponse response;
  grpc::Status status = ctx.client().CallAuth(
      [&](auto* stub, auto* c) { return stub->CreateToken(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "created token '" << response.info().name() << "' with role "
            << response.info().role() << ", expires "
            << (response.info().expires_at_ms() == 0 ? "never"
                                                     : FormatTime(response.info().expires_at_ms()))
            << ". It is shown only now; keep it secret:\n"
            << response.token() << "\n";
  return kExitOk;
}

int List(Context& ctx) {
  de::v1::ListTokensResponse response;
  grpc::Status status = ctx.client().CallAuth([&](auto* stub, auto* c) {
    return stub->ListTokens(c, de::v1::ListTokensRequest(), &response);
  });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  if (response.tokens().empty()) {
    ctx.out() << "no tokens (every call is anonymous, and the scheduler only listens on "
                 "loopback)\n";
    return kExitOk;
  }
  Table table({"NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED"});
  for (const auto& t : response.tokens()) {
    table.AddRow({t.name(), t.role(), FormatTime(t.created_at_ms()),
                  t.expires_at_ms() == 0 ? "never" : FormatTime(t.expires_at_ms()),
                  FormatTime(t.last_used_at_ms())});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int Revoke(Context& ctx, const std::string& name) {
  de::v1::RevokeTokenRequest request;
  request.set_name(name);
  de::v1::RevokeTokenResponse response;
  grpc::Status status = ctx.client().CallAuth(
      [&](auto* stub, auto* c) { return stub->RevokeToken(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "revoked token '" << name << "'\n";
  return kExitOk;
}

}  // namespace

void AddTokenCommands(CLI::App& app, Context& ctx) {
  CLI::App* token = app.add_subcommand("token", "bearer tokens: create, list, revoke (admin)");
  token->require_subcommand(1);
  auto create_opts = std::make_shared<CreateOptions>();
  CLI::App* create = token->add_subcommand(
      "create", "create a token; prints it once, on the last line");
  create->add_option("NAME", create_opts->name, "the token's name (shown in the audit trail)")
      ->required();
  create->add_option("--role", create_opts->role, "admin, operator, viewer or worker")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "viewer", "worker"}));
  create->add_option("--expires", create_opts->expires, "lifetime, e.g. 90d (default: never)");
  OnRun(create, ctx, [&ctx, create_opts] { return Create(ctx, *create_opts); });
  CLI::App* list = token->add_subcommand("list", "every token (never its value)");
  OnRun(list, ctx, [&ctx] { return List(ctx); });
  auto name = std::make_shared<std::string>();
  CLI::App* revoke = token->add_subcommand("revoke", "revoke a token (effective at once)");
  revoke->add_option("NAME", *name, "the token's name")->required();
  OnRun(revoke, ctx, [&ctx, name] { return Revoke(ctx, *name); });
}

}  // namespace de::cli
