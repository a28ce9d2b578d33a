#include "cli/runs_mapped.h"

#include "absl/strings/str_cat.h"

namespace de::cli {

std::map<std::string, std::map<std::string, int>> MappedCounts(const de::v1::Run& run) {
  std::map<std::string, std::map<std::string, int>> out;
  for (const auto& t : run.tasks()) {
    if (!t.map_task().empty()) out[t.map_task()][t.state()]++;
  }
  return out;
}

std::string MappedSummary(const std::map<std::string, int>& counts) {
  int total = 0;
  for (const auto& [state, n] : counts) total += n;
  std::string out = absl::StrCat("[", total, "]");
  auto add = [&](const std::string& state, int n, bool first) {
    absl::StrAppend(&out, first ? " " : ", ", state, " ", n);
  };
  bool first = true;
  if (auto it = counts.find("success"); it != counts.end()) {
    add("success", it->second, first);
    first = false;
  }
  for (const auto& [state, n] : counts) {
    if (state == "success") continue;
    add(state, n, first);
    first = false;
  }
  return out;
}

std::vector<TaskRow> TaskRows(const de::v1::Run& run, bool all_instances, int max_shown) {
  std::map<std::string, std::vector<const de::v1::TaskInstance*>> instances;
  for (const auto& t : run.tasks()) {
    if (!t.map_task().empty()) instances[t.map_task()].push_back(&t);
  }
  std::vector<TaskRow> rows;
  for (const auto& t : run.tasks()) {
    if (!t.map_task().empty()) continue;
    rows.push_back({&t, false, 0});
    auto it = instances.find(t.task_id());
    if (it == instances.end()) continue;
    int shown = 0, hidden = 0;
    for (const auto* inst : it->second) {
      if (!all_instances && inst->state() == "success") continue;
      if (!all_instances && shown >= max_shown) {
        ++hidden;
        continue;
      }
      rows.push_back({inst, true, 0});
      ++shown;
    }
    if (hidden > 0) rows.push_back({nullptr, true, hidden});
  }
  return rows;
}

}  // namespace de::cli
