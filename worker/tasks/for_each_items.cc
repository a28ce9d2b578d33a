#include "worker/tasks/for_each_items.h"

#include <filesystem>
#include <set>

#include "common/limits.h"
#include "common/status.h"
#include "engine/io/dataset.h"
#include "engine/io/json.h"
#include "engine/io/paths.h"

namespace de::tasks {
namespace {

namespace fs = std::filesystem;

// `p` (absolute, inside the root) relative to the data root.
std::string RelativeToRoot(const fs::path& p, const std::string& data_root) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(data_root), ec);
  fs::path rel = p.lexically_relative(root);
  return rel.empty() ? p.string() : rel.string();
}

absl::StatusOr<std::vector<std::string>> GlobItems(const std::string& pattern,
                                                   const TaskContext& ctx) {
  auto files = engine::ListInputFiles(
      pattern, ctx.data_root, [](const std::string&) { return true; }, "files");
  if (!files.ok()) {
    // A glob matching nothing is an empty list (the mapped task is skipped), not a failure.
    if (files.status().code() == absl::StatusCode::kNotFound && engine::HasGlobChars(pattern)) {
      return std::vector<std::string>{};
    }
    return absl::InvalidArgumentError(
        absl::StrCat("for_each.glob: ", files.status().message()));
  }
  std::vector<std::string> out;
  for (const auto& f : *files) out.push_back(RelativeToRoot(f, ctx.data_root));
  return out;
}

absl::StatusOr<std::vector<std::string>> PartitionItems(const YAML::Node& p,
                                                        const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(engine::DatasetSpec spec,
                      engine::ParseDatasetSpec(p, "for_each.partitions"));
  auto ds = engine::ResolveDataset(spec, ctx.data_root);
  if (!ds.ok()) {
    return absl::Status(ds.status().code(),
                        absl::StrCat("for_each.partitions: ", ds.status().message()));
  }
  for (const auto& line : ds->log) ctx.log(line);
  std::set<std::string> folders;
  for (const auto& f : ds->files) {
    folders.insert(RelativeToRoot(fs::path(f.path).parent_path(), ctx.data_root));
  }
  return std::vector<std::string>(folders.begin(), folders.end());
}

}  // namespace

absl::StatusOr<TaskOutcome> RunForEachItems(const YAML::Node& with, const TaskContext& ctx) {
  return RunGuarded(kForEachItemsType, [&]() -> absl::StatusOr<TaskOutcome> {
    std::vector<std::string> items;
    if (with["glob"] && with["glob"].IsScalar()) {
      DE_ASSIGN_OR_RETURN(items, GlobItems(with["glob"].Scalar(), ctx));
    } else if (with["partitions"] && with["partitions"].IsMap()) {
      DE_ASSIGN_OR_RETURN(items, PartitionItems(with["partitions"], ctx));
    } else {
      return absl::InvalidArgumentError(
          "for_each_items: needs with: {glob: PATTERN} or {partitions: {path, from, to}}");
    }
    if (items.size() > static_cast<size_t>(kMaxMapItems)) {
      return absl::InvalidArgumentError(absl::StrCat("for_each found ", items.size(),
                                                     " items; a task maps over at most ",
                                                     kMaxMapItems));
    }
    TaskOutcome out;
    out.counters["items"] = static_cast<int64_t>(items.size());
    out.summary_json = "{\"items\":[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out.summary_json += ',';
      engine::AppendJsonString(items[i], &out.summary_json);
    }
    out.summary_json += "]}";
    ctx.log(absl::StrCat("for_each: ", items.size(), " items"));
    return out;
  });
}

}  // namespace de::tasks
