// Roles of bearer tokens and what each may do. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace de::auth {

// admin: everything (DAG delete, token admin); operator: submit, trigger, clear, cancel, pause,
// backfill (and every read); viewer: reads; worker: only the worker session.
enum class Role { kViewer, kOperator, kAdmin, kWorker };

absl::string_view RoleName(Role r);
std::optional<Role> ParseRole(absl::string_view name);
// True if a token of role `have` may make a call that needs `need`.
bool RoleAllows(Role have, Role need);

}  // namespace de::auth
