// Tabs in YAML indentation: yaml-cpp refuses them with messages that do not say so ("illegal map
// value", "illegal block entry"), so the loader looks for one where a parse failed. Pure;
// thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "common/dag/yaml_limits.h"

namespace de::dag {

// The first line of `text` whose indentation holds a tab, at that tab ("tabs are not allowed in
// YAML indentation ..."); nullopt when there is none. Lines inside block scalars (| and >) are
// text, where a tab after the indentation is allowed.
std::optional<YamlLimitError> FindTabIndentation(std::string_view text);

}  // namespace de::dag
