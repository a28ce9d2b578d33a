#include "server/auth/method_roles.h"

#include "absl/strings/match.h"

#include <string>

#include "absl/container/flat_hash_map.h"

namespace de::auth {
namespace {

const absl::flat_hash_map<std::string, MethodRule>& Table() {
  constexpr MethodRule kRead{Role::kViewer, false};
  constexpr MethodRule kOperate{Role::kOperator, true};
  constexpr MethodRule kAdminChange{Role::kAdmin, true};
  constexpr MethodRule kAdminRead{Role::kAdmin, false};
  static const auto* table = new absl::flat_hash_map<std::string, MethodRule>{
      // Operator service.
      {"/de.v1.Operator/ValidateDag", kRead},
      {"/de.v1.Operator/SubmitDag", kOperate},
      {"/de.v1.Operator/ListDags", kRead},
      {"/de.v1.Operator/GetDag", kRead},
      {"/de.v1.Operator/SetDagPaused", kOperate},
      {"/de.v1.Operator/DeleteDag", kAdminChange},
      {"/de.v1.Operator/Trigger", kOperate},
      {"/de.v1.Operator/ListRuns", kRead},
      {"/de.v1.Operator/GetRun", kRead},
      {"/de.v1.Operator/CancelRun", kOperate},
      {"/de.v1.Operator/ClearRun", kOperate},
      {"/de.v1.Operator/GetTaskLog", kRead},
      {"/de.v1.Operator/ListWorkers", kRead},
      {"/de.v1.Operator/CreateBackfill", kOperate},
      {"/de.v1.Operator/ListBackfills", kRead},
      {"/de.v1.Operator/GetBackfill", kRead},
      {"/de.v1.Operator/CancelBackfill", kOperate},
      {"/de.v1.Operator/ListAlerts", kRead},
      {"/de.v1.Operator/TestAlert", kOperate},
      {"/de.v1.Operator/CleanHistory", kAdminChange},
      // Variables and secrets (a secret's value is never returned).
      {"/de.v1.Vault/SetVariable", kOperate},
      {"/de.v1.Vault/GetVariable", kRead},
      {"/de.v1.Vault/ListVariables", kRead},
      {"/de.v1.Vault/DeleteVariable", kOperate},
      {"/de.v1.Vault/SetSecret", kOperate},
      {"/de.v1.Vault/ListSecrets", kRead},
      {"/de.v1.Vault/DeleteSecret", kOperate},
      // Worker session.
      {"/de.v1.WorkerService/Session", {Role::kWorker, false}},
      // Security administration.
      {"/de.v1.Auth/CreateToken", kAdminChange},
      {"/de.v1.Auth/ListTokens", kAdminRead},
      {"/de.v1.Auth/RevokeToken", kAdminChange},
      {"/de.v1.Auth/ListAudit", kAdminRead},
  };
  return *table;
}

}  // namespace

std::optional<MethodRule> LookupMethod(absl::string_view path) {
  auto it = Table().find(path);
  if (it == Table().end()) return std::nullopt;
  return it->second;
}

std::optional<Role> HttpRole(absl::string_view method, absl::string_view path) {
  const bool read = method == "GET" || method == "HEAD";
  const bool data = absl::StartsWith(path, "/api/") || path == "/metrics";
  // The page's own files (HTML, JS, CSS) hold no data: they load without a token, so that a
  // user can open the page and enter one; everything they show comes from /api/v1.
  if (read && !data) return std::nullopt;
  if (read) return Role::kViewer;
  // The page's actions (trigger, pause/unpause, cancel, clear, cancel a backfill) are the
  // operator's, as in the gRPC table.
  if (method == "POST" && absl::StartsWith(path, "/api/v1/")) return Role::kOperator;
  return Role::kAdmin;
}

}  // namespace de::auth
