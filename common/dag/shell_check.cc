#include "common/dag/shell_check.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/template.h"

namespace de::dag {

std::vector<ShellProblem> CheckShellWith(const YAML::Node& with,
                                         const std::set<std::string>& param_names) {
  std::vector<ShellProblem> out;
  try {
    if (!with.IsDefined() || !with.IsMap()) return out;
    YAML::Node command = with["command"];
    if (!command.IsDefined() || !command.IsScalar()) return out;
    // Unknown names and malformed references are reported by CheckTemplate already.
    if (!CheckTemplate(command.Scalar(), param_names).ok()) return out;
    std::vector<std::string> raw;
    size_t at = std::string::npos;
    absl::Status st = CheckShellCommand(command.Scalar(), &raw, &at);
    if (!st.ok()) {
      out.push_back({command, absl::StrCat("command: ", st.message()), false, at});
    }
    if (!raw.empty()) {
      out.push_back({command,
                     absl::StrCat("command: {{ ", absl::StrJoin(raw, " }}, {{ "),
                                  " | raw }} reaches the shell unquoted (its value is shell "
                                  "syntax, so whoever sets it can run commands)"),
                     true, std::string::npos});
    }
  } catch (const YAML::Exception& e) {
    out.push_back({with, absl::StrCat("YAML error: ", e.msg), false});
  }
  return out;
}

}  // namespace de::dag
