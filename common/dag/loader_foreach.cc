// The DAG loader's `for_each:` and `max_parallel:` on a task (a mapped task: one task instance
// per item at run time, server/sched/mapping.cc). Four forms:
//   for_each: [a, b, c]                                   a list literal (scalars)
//   for_each: { param: files }                            a string or list param, comma-separated
//   for_each: { glob: "raw/*.csv.gz" }                    files under the workers' data root
//   for_each: { partitions: { path: lake/t, from: ..., to: ... } }   a dataset's partitions
// and {{ item }} / {{ map_index }}, which only a mapped task's templates may use.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/dag/loader_internal.h"
#include "common/dag/suggest.h"
#include "common/dag/template.h"
#include "common/limits.h"

namespace de::dag::loader_internal {
namespace {

constexpr char kForEachForms[] =
    "for_each must be a list, {param: NAME}, {glob: PATTERN} or {partitions: {path, from, to}}";

// The first {{ item }} / {{ map_index }} in the string scalars under `n`, if any.
std::optional<std::pair<YAML::Node, std::string>> FindMappedRef(const YAML::Node& n) {
  if (n.IsScalar()) {
    std::string found;
    (void)ScanTemplate(
        n.Scalar(), [](std::string_view) { return absl::OkStatus(); },
        [&](const TemplateRef& ref) {
          if (found.empty() && MappedTemplateVars().count(std::string(ref.name))) {
            found = std::string(ref.name);
          }
          return absl::OkStatus();
        });
    if (!found.empty()) return std::make_pair(n, found);
  } else if (n.IsSequence() || n.IsMap()) {
    for (const auto& kv : n) {
      const YAML::Node& child = n.IsMap() ? kv.second : kv;
      if (auto r = FindMappedRef(child)) return r;
    }
  }
  return std::nullopt;
}

}  // namespace

void Loader::ReadForEach(const YAML::Node& t, TaskSpec* spec) {
  YAML::Node f = t["for_each"];
  YAML::Node mp = t["max_parallel"];
  if (!f || f.IsNull()) {
    if (mp && !mp.IsNull()) Error(mp, "max_parallel is for tasks with for_each");
    if (spec->with && !spec->with.IsNull()) {
      if (auto r = FindMappedRef(t["with"])) {
        Error(r->first, absl::StrCat("'{{ ", r->second, " }}' is only defined in a task with "
                                     "for_each (task '", spec->id, "')"));
      }
    }
    return;
  }
  if (mp && !mp.IsNull()) {
    if (auto v = Int(mp, "max_parallel", 1, "a positive integer")) spec->max_parallel = *v;
  }
  ForEachSpec fe;
  fe.loc = ToLocation(f.Mark());
  if (f.IsSequence()) {
    fe.kind = ForEachSpec::Kind::kList;
    if (f.size() > static_cast<size_t>(kMaxMapItems)) {
      Error(f, absl::StrCat("for_each has ", f.size(), " items; a task maps over at most ",
                            kMaxMapItems));
      return;
    }
    for (const auto& item : f) {
      if (!item.IsScalar()) {
        Error(item, "for_each items must be scalars (strings or numbers)");
        return;
      }
      fe.items.push_back(item.Scalar());
    }
  } else if (f.IsMap() && f.size() == 1) {
    const std::string key = f.begin()->first.IsScalar() ? f.begin()->first.Scalar() : "";
    const YAML::Node v = f.begin()->second;
    if (key == "param") {
      if (!ReadForEachParam(v, &fe)) return;
    } else if (key == "glob") {
      fe.kind = ForEachSpec::Kind::kGlob;
      auto s = String(v, "for_each.glob");
      if (!s) return;
      if (s->empty()) {
        Error(v, "for_each.glob must not be empty");
        return;
      }
      CheckTemplates(v);
      fe.glob = *s;
    } else if (key == "partitions") {
      if (!ReadForEachPartitions(v, &fe)) return;
    } else {
      Error(f.begin()->first, absl::StrCat("unknown for_each form '", key, "'",
                                           DidYouMean(key, {"param", "glob", "partitions"}),
                                           ": ", kForEachForms));
      return;
    }
  } else {
    Error(f, kForEachForms);
    return;
  }
  spec->for_each = std::move(fe);
}

bool Loader::ReadForEachParam(const YAML::Node& v, ForEachSpec* fe) {
  fe->kind = ForEachSpec::Kind::kParam;
  auto name = String(v, "for_each.param");
  if (!name) return false;
  auto it = dag_.param_decls.find(*name);
  if (it == dag_.param_decls.end()) {
    std::vector<std::string> declared;
    for (const auto& [n, d] : dag_.param_decls) declared.push_back(n);
    Error(v, absl::StrCat("for_each.param: unknown param '", *name, "'",
                          DidYouMean(*name, declared)));
    return false;
  }
  if (it->second.type != ParamType::kString && it->second.type != ParamType::kList) {
    Error(v, absl::StrCat("for_each.param: param '", *name, "' must be a list or a string "
                          "(comma-separated items)"));
    return false;
  }
  fe->param = *name;
  return true;
}

bool Loader::ReadForEachPartitions(const YAML::Node& v, ForEachSpec* fe) {
  fe->kind = ForEachSpec::Kind::kPartitions;
  if (!v.IsMap()) {
    Error(v, "for_each.partitions must be a mapping {path, from, to}");
    return false;
  }
  CheckKeys(v, {"path", "from", "to"}, "for_each.partitions");
  YAML::Node path = v["path"];
  if (!path || path.IsNull()) {
    Error(v, "for_each.partitions is missing 'path'");
    return false;
  }
  auto p = String(path, "for_each.partitions.path");
  if (!p) return false;
  fe->path = *p;
  // The run's data interval unless given.
  fe->from = "{{ data_interval_start }}";
  fe->to = "{{ data_interval_end }}";
  for (auto [key, out] : {std::pair{"from", &fe->from}, std::pair{"to", &fe->to}}) {
    if (YAML::Node n = v[key]; n && !n.IsNull()) {
      auto s = String(n, absl::StrCat("for_each.partitions.", key));
      if (!s) return false;
      *out = *s;
    }
  }
  CheckTemplates(v);
  if (auto r = FindMappedRef(v)) {
    Error(r->first, absl::StrCat("'{{ ", r->second, " }}' cannot be used inside for_each"));
    return false;
  }
  return true;
}

}  // namespace de::dag::loader_internal
