// Limits on a DAG file, checked on its text BEFORE the YAML tree is built (yaml-cpp builds the
// whole tree, and walking aliases can multiply it): the size in bytes, the number of nodes, the
// nodes that aliases expand to (a "billion laughs" document is refused in milliseconds), the
// nesting depth, and the number of tasks and params. The scan uses yaml-cpp's event parser, so
// memory stays proportional to the nesting depth and the number of anchors. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace de::dag {

struct YamlLimits {
  int64_t max_bytes = 4 << 20;            // 4 MiB of YAML text
  int64_t max_nodes = 500'000;            // scalars, sequences and maps, as written
  int64_t max_expanded_nodes = 1'000'000; // with every alias counted as the nodes it stands for
  int max_depth = 64;                     // nested sequences / maps
  int64_t max_tasks = 50'000;             // items of the top-level `tasks:` list (DESIGN.md's
                                          // scheduler bar is a 10,001-task fan-out)
  int64_t max_params = 1'000;             // entries of the top-level `params:` mapping
};

struct YamlLimitError {
  int line = 0;    // 1-based; 0 = the whole file
  int column = 0;  // 1-based
  std::string message;
};

// The first limit `text` exceeds, with where; nullopt when it is within all of them (or has a
// YAML syntax error, which the loader reports with its own message).
std::optional<YamlLimitError> CheckYamlLimits(std::string_view text,
                                              const YamlLimits& limits = YamlLimits());

}  // namespace de::dag
