// Submit-time check of `filter:`/`having:` expressions: the expression language's parser and
// schema-free type checks (engine/ops/expr.h, target de_expr). Pure function; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace de::dag {

// OK, or InvalidArgument saying what is wrong; `*column` gets the 1-based column of the problem
// inside `text` (0 when unknown). `what` names the parameter in messages ("filter").
absl::Status CheckExpression(std::string_view text, std::string_view what, int* column);

}  // namespace de::dag
