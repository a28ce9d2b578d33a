#include "cli/dag_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "common/dag/loader.h"

namespace de::cli {

absl::StatusOr<dag::DagSpec> LoadDagFile(const std::string& path, std::ostream& warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  dag::LoadResult result = dag::LoadDag(text.str(), path);
  for (dag::Diagnostic w : result.warnings) {
    if (w.file.empty()) w.file = path;
    w.message = "warning: " + w.message;
    warnings << w.ToString() << "\n";
  }
  if (result.ok()) return *std::move(result.dag);
  std::string message;
  for (dag::Diagnostic e : result.errors) {
    if (e.file.empty()) e.file = path;
    absl::StrAppend(&message, message.empty() ? "" : "\n", e.ToString());
  }
  return absl::InvalidArgumentError(message);
}

int PrintLoadError(const absl::Status& status, std::ostream& err) {
  err << status.message() << "\n";
  return kExitFailed;
}

}  // namespace de::cli
