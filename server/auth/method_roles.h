// The one table of every gRPC method the scheduler serves: the role it needs and whether it
// changes something (then it is audited). A method missing from the table is denied.
// Thread-safe (immutable).
#pragma once

#include <optional>
#include "absl/strings/string_view.h"

#include "server/auth/roles.h"

namespace de::auth {

struct MethodRule {
  Role role;
  bool mutating;   // recorded in the audit trail
};

// `path` is the full gRPC method, "/de.v1.Operator/Trigger".
std::optional<MethodRule> LookupMethod(absl::string_view path);

// The role an HTTP request needs: none for the page's static files, viewer to read /api/ and
// /metrics, operator for POST actions under /api/v1/, admin for anything else.
std::optional<Role> HttpRole(absl::string_view method, absl::string_view path);

}  // namespace de::auth
