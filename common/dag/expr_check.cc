#include "common/dag/expr_check.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace de::dag {

// Until the expression parser (branch engine-expr) is merged, this checks what needs no grammar:
// an empty expression, unbalanced parentheses and unterminated quotes. With de_expr linked it
// becomes engine::ParseExpr + engine::CheckExprWithoutSchema (see the comment at the end).
absl::Status CheckExpression(std::string_view text, std::string_view what, int* column) {
  *column = 0;
  auto fail = [&](size_t pos, std::string_view why) {
    *column = static_cast<int>(pos) + 1;
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": column ", pos + 1, ": ", std::string(why)));
  };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(0, "empty expression");
  }
  std::vector<size_t> open;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'' || c == '"') {
      size_t start = i;
      for (++i; i < text.size(); ++i) {
        if (text[i] == c) {
          if (i + 1 < text.size() && text[i + 1] == c) {
            ++i;  // doubled quote inside a literal
            continue;
          }
          break;
        }
      }
      if (i >= text.size()) {
        return fail(start, c == '\'' ? "unterminated string literal" : "unterminated quoted name");
      }
    } else if (c == '(') {
      open.push_back(i);
    } else if (c == ')') {
      if (open.empty()) return fail(i, "')' without a matching '('");
      open.pop_back();
    }
  }
  if (!open.empty()) return fail(open.back(), "'(' is never closed");
  return absl::OkStatus();
  // With engine-expr merged:
  //   auto e = engine::ParseExpr(text, what);
  //   absl::Status s = e.ok() ? engine::CheckExprWithoutSchema(**e, what) : e.status();
  //   *column = engine::ExprErrorColumn(s);
  //   return s;
}

}  // namespace de::dag
