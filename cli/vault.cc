// dectl var set|get|list|delete and dectl secret set|list|delete: the values DAG templates reach
// as {{ var.NAME }} and {{ secret.NAME }}. A secret's value is never shown.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace de::cli {
namespace {

struct SetOptions {
  std::string name;
  std::string value;
  bool has_value = false;
  std::string from_file;
};

int VarSet(Context& ctx, const SetOptions& o) {
  de::v1::SetVariableRequest request;
  request.set_name(o.name);
  request.set_value(o.value);
  de::v1::Variable response;
  grpc::Status status = ctx.client().CallVault(
      [&](auto* stub, auto* c) { return stub->SetVariable(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "set variable '" << response.name() << "'\n";
  return kExitOk;
}

int VarGet(Context& ctx, const std::string& name) {
  de::v1::GetVariableRequest request;
  request.set_name(name);
  de::v1::Variable response;
  grpc::Status status = ctx.client().CallVault(
      [&](auto* stub, auto* c) { return stub->GetVariable(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << response.value() << "\n";
  return kExitOk;
}

int VarList(Context& ctx) {
  de::v1::ListVariablesResponse response;
  grpc::Status status = ctx.client().CallVault([&](auto* stub, auto* c) {
    return stub->ListVariables(c, de::v1::ListVariablesRequest(), &response);
  });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  if (response.variables().empty()) {
    ctx.out() << "no variables (dectl var set NAME VALUE)\n";
    return kExitOk;
  }
  Table table({"NAME", "VALUE", "UPDATED"});
  for (const auto& v : response.variables()) {
    table.AddRow({v.name(), v.value(), FormatTime(v.updated_at_ms())});
  }
  table.Print(ctx.out());
  return kExitOk;
}

// A secret's value: the argument, else the file, else standard input (a final newline dropped),
// so that it need not appear in the shell's history.
absl::StatusOr<std::string> SecretValue(const SetOptions& o) {
  if (o.has_value && !o.from_file.empty()) {
    return absl::InvalidArgumentError("give the value or --from-file, not both");
  }
  if (o.has_value) return o.value;
  std::string text;
  if (!o.from_file.empty()) {
    std::ifstream in(o.from_file, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", o.from_file));
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

int SecretSet(Context& ctx, const SetOptions& o) {
  auto value = SecretValue(o);
  if (!value.ok()) return ctx.UsageError(value.status());
  de::v1::SetSecretRequest request;
  request.set_name(o.name);
  request.set_secret_value(*value);
  de::v1::SecretInfo response;
  grpc::Status status = ctx.client().CallVault(
      [&](auto* stub, auto* c) { return stub->SetSecret(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "set secret '" << response.name() << "' (encrypted at rest; never shown)\n";
  return kExitOk;
}

int SecretList(Context& ctx) {
  de::v1::ListSecretsResponse response;
  grpc::Status status = ctx.client().CallVault([&](auto* stub, auto* c) {
    return stub->ListSecrets(c, de::v1::ListSecretsRequest(), &response);
  });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  if (response.secrets().empty()) {
    ctx.out() << "no secrets (dectl secret set NAME, value on standard input)\n";
    return kExitOk;
  }
  Table table({"NAME", "UPDATED", "PROBLEM"});
  for (const auto& s : response.secrets()) {
    table.AddRow({s.name(), FormatTime(s.updated_at_ms()), s.problem().empty() ? "-" : s.problem()});
  }
  table.Print(ctx.out());
  return kExitOk;
}

template <typename Request, typename Response, typename Call>
int Delete(Context& ctx, const std::string& kind, const std::string& name, Call call) {
  Request request;
  request.set_name(name);
  Response response;
  grpc::Status status = ctx.client().CallVault(
      [&](auto* stub, auto* c) { return (stub->*call)(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "deleted " << kind << " '" << name << "'\n";
  return kExitOk;
}

void AddVarCommands(CLI::App& app, Context& ctx) {
  CLI::App* var = app.add_subcommand("var", "variables for {{ var.NAME }}: set, get, list, delete");
  var->require_subcommand(1);
  auto set_opts = std::make_shared<SetOptions>();
  CLI::App* set = var->add_subcommand("set", "set a variable (creates or replaces it)");
  set->add_option("NAME", set_opts->name, "letters, digits and _")->required();
  set->add_option("VALUE", set_opts->value, "its value")->required();
  OnRun(set, ctx, [&ctx, set_opts] { return VarSet(ctx, *set_opts); });
  auto name = std::make_shared<std::string>();
  CLI::App* get = var->add_subcommand("get", "print a variable's value");
  get->add_option("NAME", *name, "the variable")->required();
  OnRun(get, ctx, [&ctx, name] { return VarGet(ctx, *name); });
  CLI::App* list = var->add_subcommand("list", "every variable with its value");
  OnRun(list, ctx, [&ctx] { return VarList(ctx); });
  CLI::App* del = var->add_subcommand("delete", "delete a variable");
  del->add_option("NAME", *name, "the variable")->required();
  OnRun(del, ctx, [&ctx, name] {
    return Delete<de::v1::DeleteVariableRequest, de::v1::DeleteVariableResponse>(
        ctx, "variable", *name, &de::v1::Vault::Stub::DeleteVariable);
  });
}

void AddSecretCommands(CLI::App& app, Context& ctx) {
  CLI::App* secret = app.add_subcommand(
      "secret", "secrets for {{ secret.NAME }} (encrypted, never shown): set, list, delete");
  secret->require_subcommand(1);
  auto set_opts = std::make_shared<SetOptions>();
  CLI::App* set = secret->add_subcommand(
      "set", "set a secret; its value from VALUE, --from-file or standard input");
  set->add_option("NAME", set_opts->name, "letters, digits and _")->required();
  set->add_option("VALUE", set_opts->value, "its value (prefer standard input: shell history)")
      ->each([set_opts](const std::string&) { set_opts->has_value = true; });
  set->add_option("--from-file", set_opts->from_file, "read the value from this file");
  OnRun(set, ctx, [&ctx, set_opts] { return SecretSet(ctx, *set_opts); });
  CLI::App* list = secret->add_subcommand("list", "every secret's name (never its value)");
  OnRun(list, ctx, [&ctx] { return SecretList(ctx); });
  auto name = std::make_shared<std::string>();
  CLI::App* del = secret->add_subcommand("delete", "delete a secret");
  del->add_option("NAME", *name, "the secret")->required();
  OnRun(del, ctx, [&ctx, name] {
    return Delete<de::v1::DeleteSecretRequest, de::v1::DeleteSecretResponse>(
        ctx, "secret", *name, &de::v1::Vault::Stub::DeleteSecret);
  });
}

}  // namespace

void AddVaultCommands(CLI::App& app, Context& ctx) {
  AddVarCommands(app, ctx);
  AddSecretCommands(app, ctx);
}

}  // namespace de::cli
