// Error-propagation helpers over absl::Status / absl::StatusOr.
// Header-only; no state.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DE_STATUS_CONCAT_INNER(a, b) a##b
#define DE_STATUS_CONCAT(a, b) DE_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define DE_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status de_status_ = (expr);           \
    if (!de_status_.ok()) return de_status_;      \
  } while (0)

// `DE_ASSIGN_OR_RETURN(auto x, F());` assigns the value of a StatusOr or returns its error.
#define DE_ASSIGN_OR_RETURN(lhs, expr) \
  DE_ASSIGN_OR_RETURN_IMPL(DE_STATUS_CONCAT(de_statusor_, __LINE__), lhs, expr)
#define DE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
