// Submit-time checks of a shell task's `with:` beyond its parameter types: where each template
// stands in the `command` string (common/dag/shell_quote.h) and which values opt out of quoting
// with `| raw` (a warning). Pure function; thread-safe; yaml-cpp exceptions never escape.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"

namespace de::dag {

struct ShellProblem {
  YAML::Node node;  // where (its Mark())
  std::string message;
  bool warning = false;
  // The offset in the command's text of the "{{" of the template at fault; npos when the problem
  // is the whole command (or its literal text).
  size_t offset = std::string::npos;
};

// `with` is the task's raw `with:` mapping (templates not rendered).
std::vector<ShellProblem> CheckShellWith(const YAML::Node& with,
                                         const std::set<std::string>& param_names);

}  // namespace de::dag
