#include "common/dag/expr_check.h"

#include "engine/ops/expr.h"

namespace de::dag {

// The expression language's own parser and schema-free checks (engine/ops/expr.h, de_expr).
absl::Status CheckExpression(std::string_view text, std::string_view what, int* column) {
  auto e = engine::ParseExpr(text, what);
  absl::Status s = e.ok() ? engine::CheckExprWithoutSchema(**e, what) : e.status();
  *column = s.ok() ? 0 : engine::ExprErrorColumn(s);
  return s;
}

}  // namespace de::dag
