#include "worker/probe.h"

#include <glob.h>
#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/io/paths.h"

namespace de::worker {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxMatches = 1000000;

// The modification time of `p` (following links), or nullopt when it does not exist.
std::optional<absl::Time> ModifiedAt(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return absl::TimeFromTimespec(st.st_mtim);
}

// A name a producer writes under before renaming it into place (".part", "_tmp"): not counted
// unless the pattern itself asks for such names (`_SUCCESS`, `.done`).
bool Temporary(const std::string& name, const std::string& pattern_last) {
  if (name.empty() || (name[0] != '.' && name[0] != '_')) return false;
  return pattern_last.empty() || pattern_last[0] != name[0];
}

// Modified less than min_age ago (never without a min_age, whatever the clocks say).
bool TooNew(const v1::Probe& probe, absl::Time mtime, absl::Time now) {
  return probe.min_age_ms() > 0 && now - mtime < absl::Milliseconds(probe.min_age_ms());
}

void Fail(v1::ProbeResult* r, const absl::Status& st) {
  r->set_error(std::string(st.message()));
  r->set_permanent(st.code() == absl::StatusCode::kPermissionDenied ||
                   st.code() == absl::StatusCode::kInvalidArgument);
}

void ProbePath(const v1::Probe& probe, const std::string& data_root, absl::Time now,
               v1::ProbeResult* r) {
  auto p = engine::ResolveInsideRoot(probe.path(), data_root, "wait_for path");
  if (!p.ok()) return Fail(r, p.status());
  std::optional<absl::Time> mtime = ModifiedAt(*p);
  if (!mtime) return;
  if (TooNew(probe, *mtime, now)) {
    r->set_too_new(1);
  } else {
    r->set_found(1);
  }
}

void ProbeGlob(const v1::Probe& probe, const std::string& data_root, absl::Time now,
               v1::ProbeResult* r) {
  // The pattern itself first: "{{ params.dir }}/*.csv" rendered with a dir outside the root.
  auto pattern = engine::ResolveInsideRoot(probe.path(), data_root, "wait_for glob");
  if (!pattern.ok()) return Fail(r, pattern.status());
  const std::string last = fs::path(probe.path()).filename().string();
  glob_t g;
  const int rc = ::glob(pattern->c_str(), GLOB_NOSORT, nullptr, &g);
  if (rc == GLOB_ABORTED || rc == GLOB_NOSPACE) {
    ::globfree(&g);
    r->set_error(absl::StrCat("wait_for glob ", probe.path(), ": cannot read a folder it names"));
    return;
  }
  int found = 0, too_new = 0;
  for (size_t i = 0; rc == 0 && i < g.gl_pathc && i < kMaxMatches; ++i) {
    const fs::path match(g.gl_pathv[i]);
    if (Temporary(match.filename().string(), last)) continue;
    auto resolved = engine::ResolveInsideRoot(match.string(), data_root, "wait_for glob match");
    if (!resolved.ok()) {
      ::globfree(&g);
      return Fail(r, resolved.status());
    }
    std::error_code ec;
    if (!fs::is_regular_file(*resolved, ec)) continue;
    std::optional<absl::Time> mtime = ModifiedAt(*resolved);
    if (!mtime) continue;  // removed meanwhile
    ++(TooNew(probe, *mtime, now) ? too_new : found);
  }
  ::globfree(&g);
  r->set_found(found);
  r->set_too_new(too_new);
}

}  // namespace

v1::ProbeResult RunProbe(const v1::Probe& probe, const std::string& data_root, absl::Time now) {
  v1::ProbeResult r;
  r.set_probe_id(probe.probe_id());
  if (probe.path().empty()) {
    r.set_error("wait_for probe without a path");
    r.set_permanent(true);
    return r;
  }
  if (probe.glob()) {
    ProbeGlob(probe, data_root, now, &r);
  } else {
    ProbePath(probe, data_root, now, &r);
  }
  return r;
}

}  // namespace de::worker
