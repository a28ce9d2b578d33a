// The DAG loader's waits on data: a `wait_for:` entry with `path:` (a file or folder that must
// exist) or `glob:` (with `min_files:`), both templated and relative to the data root, with
// `timeout:`, `poke_interval:`, `exponential_backoff:` and `min_age:`.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/dag/loader_internal.h"
#include "common/dag/template.h"

namespace de::dag::loader_internal {
namespace {

const std::vector<std::string>& FileWaitKeys() {
  static const std::vector<std::string> k = {
      "path", "glob", "min_files", "timeout", "poke_interval", "exponential_backoff", "min_age"};
  return k;
}

// Standard names a wait's path cannot use: it belongs to the run, not to a task or an item.
bool TaskOnlyName(std::string_view name) {
  return name == "task" || name == "attempt" || name == "item";
}

constexpr absl::Duration kMinPokeInterval = absl::Seconds(1);

}  // namespace

void Loader::ReadFileWait(const YAML::Node& w) {
  CheckKeys(w, FileWaitKeys(), "wait_for");
  WaitFor spec;
  spec.loc = ToLocation(w.Mark());
  YAML::Node path = w["path"];
  YAML::Node glob = w["glob"];
  if (path && glob) {
    Error(glob, "wait_for entry has both 'path' and 'glob'; write one entry for each");
    return;
  }
  const bool is_glob = static_cast<bool>(glob);
  spec.kind = is_glob ? WaitKind::kGlob : WaitKind::kPath;
  const YAML::Node& pattern = is_glob ? glob : path;
  const char* key = is_glob ? "glob" : "path";
  if (auto s = String(pattern, absl::StrCat("wait_for.", key))) {
    spec.pattern = *s;
    CheckWaitPattern(pattern, key);
  }
  if (YAML::Node m = w["min_files"]; m && !m.IsNull()) {
    if (!is_glob) {
      Error(m, "min_files is for glob: waits (a path: wait waits for one file or folder)");
    } else if (auto v = Int(m, "wait_for.min_files", 1, "a positive integer")) {
      spec.min_files = *v;
    }
  }
  if (YAML::Node t = w["timeout"]; t && !t.IsNull()) {
    spec.timeout = Duration(t, "wait_for.timeout", true);
  }
  if (YAML::Node p = w["poke_interval"]; p && !p.IsNull()) {
    if (auto d = Duration(p, "wait_for.poke_interval", true)) {
      if (*d < kMinPokeInterval) {
        Error(p, "wait_for.poke_interval must be at least 1s");
      } else {
        spec.poke_interval = *d;
      }
    }
  }
  if (YAML::Node b = w["exponential_backoff"]; b && !b.IsNull()) {
    if (auto v = Bool(b, "wait_for.exponential_backoff")) spec.exponential_backoff = *v;
  }
  if (YAML::Node a = w["min_age"]; a && !a.IsNull()) {
    if (auto d = Duration(a, "wait_for.min_age", true)) spec.min_age = *d;
  }
  dag_.wait_for.push_back(std::move(spec));
}

// The pattern's templates (run names and params only), and what can be told before rendering:
// not empty, relative, no "..", no glob characters in a path:.
void Loader::CheckWaitPattern(const YAML::Node& n, absl::string_view key) {
  const std::string& text = n.Scalar();
  if (text.empty()) {
    Error(n, absl::StrCat("wait_for.", key, " must not be empty"));
    return;
  }
  const size_t errors_before = errors_.size();
  CheckTemplates(n);  // var./secret. are refused here: the path is shown to every viewer
  if (errors_.size() != errors_before) return;
  absl::Status st = ScanTemplate(
      text, [](std::string_view) { return absl::OkStatus(); },
      [&](const TemplateRef& ref) {
        if (!TaskOnlyName(ref.name)) return absl::OkStatus();
        return absl::InvalidArgumentError(absl::StrCat("'{{ ", std::string(ref.name),
                                                       " }}' has no value in a wait_for ", key,
                                                       " (it is checked before any task runs)"));
      });
  if (!st.ok()) {
    Error(n, std::string(st.message()));
    return;
  }
  if (text.front() == '/') {
    Error(n, absl::StrCat("wait_for.", key, " '", text,
                          "' must be relative to the data root (no leading '/')"));
    return;
  }
  for (absl::string_view part : absl::StrSplit(text, '/')) {
    if (part == "..") {
      Error(n, absl::StrCat("wait_for.", key, " '", text,
                            "' must stay inside the data root (no '..')"));
      return;
    }
  }
  if (key == "path" && text.find_first_of("*?[") != std::string::npos) {
    Error(n, absl::StrCat("wait_for.path '", text,
                          "' has glob characters; write glob: (with min_files:) instead"));
  }
}

}  // namespace de::dag::loader_internal
