// Mapped tasks (for_each) in dectl's run views: the instances TASK[0], TASK[1], ... of a mapped
// task are shown as one group with counts per state ("[1000] success 998, failed 2"), followed
// by the instances that did not succeed (a few, or all with --instances). Pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "de/v1/types.pb.h"

namespace de::cli {

// Instance counts of each mapped task of `run`, by state.
std::map<std::string, std::map<std::string, int>> MappedCounts(const de::v1::Run& run);
// "[3] success 2, failed 1" for `counts` (success first, then the others by name).
std::string MappedSummary(const std::map<std::string, int>& counts);
// The rows to print for `run`'s tasks, in order: every task that is not an instance, each
// mapped task followed by its instances that did not succeed (at most `max_shown`, or all when
// `all_instances`, and then a "... N more" row).
struct TaskRow {
  const de::v1::TaskInstance* task = nullptr;   // null: the "... N more" row
  bool instance = false;
  int more = 0;
};
std::vector<TaskRow> TaskRows(const de::v1::Run& run, bool all_instances, int max_shown = 10);

}  // namespace de::cli
