#include "server/auth/roles.h"

namespace de::auth {

absl::string_view RoleName(Role r) {
  switch (r) {
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
    case Role::kWorker: return "worker";
  }
  return "?";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kAdmin, Role::kWorker}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

bool RoleAllows(Role have, Role need) {
  if (have == Role::kAdmin) return true;
  switch (need) {
    case Role::kViewer: return have == Role::kViewer || have == Role::kOperator;
    case Role::kOperator: return have == Role::kOperator;
    case Role::kAdmin: return false;
    case Role::kWorker: return have == Role::kWorker;
  }
  return false;
}

}  // namespace de::auth
