#include "cli/confirm.h"

#include <istream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace de::cli {

absl::StatusOr<bool> Confirm(Context& ctx, const std::string& question, bool yes) {
  if (yes) return true;
  if (ctx.io.in == nullptr || !ctx.io.in_is_tty) {
    return absl::FailedPreconditionError(absl::StrCat(
        question, ": not confirmed (stdin is not a terminal; pass --yes to confirm)"));
  }
  ctx.err() << question << " [y/N] ";
  ctx.err().flush();
  std::string answer;
  if (!std::getline(*ctx.io.in, answer)) return false;
  answer = absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer));
  return answer == "y" || answer == "yes";
}

}  // namespace de::cli
