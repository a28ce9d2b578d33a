// libFuzzer target for what a DAG author or a trigger sends: the YAML loader (with its limits
// pre-scan) on arbitrary text, and the shell-quoting template renderer on arbitrary commands and
// values. The first byte picks the mode; for the renderer the rest is "command\0value".
// Checks that nothing crashes or hangs, that a load either succeeds with a DAG or fails with at
// least one error, that every shell task of a loaded DAG renders or fails cleanly, and that a
// command without templates renders to itself.
// Run with tests/fuzz/run_fuzz.sh dag [SECONDS] (DE_BUILD_FUZZ=ON, clang), target dag_fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/dag/loader.h"
#include "common/dag/template.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

de::dag::TemplateContext Ctx(const std::string& value) {
  return de::dag::MakeTemplateContext("d", "manual__1", "t", 1, absl::UnixEpoch(),
                                      absl::UnixEpoch(), absl::UnixEpoch(), absl::UTCTimeZone(),
                                      {{"x", value}, {"who", value}});
}

void FuzzLoader(std::string_view text) {
  de::dag::LoadResult r = de::dag::LoadDag(text, "fuzz.yaml");
  Check(r.ok() == r.dag.has_value());
  Check(r.ok() || !r.errors.empty());
  if (!r.ok()) return;
  for (const auto& t : r.dag->tasks) {
    (void)de::dag::RenderTaskYaml(t.type, t.with, Ctx("a'b\"c$(d)`e`\\"));
  }
}

void FuzzShell(std::string_view data) {
  size_t nul = data.find('\0');
  std::string command(data.substr(0, nul));
  std::string value(nul == std::string_view::npos ? "" : data.substr(nul + 1));
  auto quoted = de::dag::RenderShellCommand(command, Ctx(value));
  std::vector<std::string> raw;
  (void)de::dag::CheckShellCommand(command, &raw);
  if (command.find("{{") == std::string::npos) {
    Check(quoted.ok() && *quoted == command);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    FuzzShell(in);
  } else {
    FuzzLoader(in);
  }
  return 0;
}
