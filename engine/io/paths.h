// Path confinement and input listing for the built-in tasks: every path a task reads or writes
// resolves inside the worker's data root (after resolving "..", symlinks and absolute paths).
// Stateless; safe from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace de::engine {

// Resolves `p` against `data_root` and refuses paths that leave it. `what` names the parameter
// in errors ("input", "output").
absl::StatusOr<std::filesystem::path> ResolveInsideRoot(const std::string& p,
                                                        const std::string& data_root,
                                                        const char* what);

// Resolves an output folder: inside the root, not the root itself, trailing slashes dropped.
absl::StatusOr<std::string> ResolveOutputFolder(const std::string& p, const std::string& data_root);

// Refuses an output folder (resolved, as ResolveOutputFolder returns it) that is, or is an
// ancestor of, any of `inputs` (resolved paths): committing the output would replace them.
absl::Status CheckOutputApart(const std::string& output, const std::vector<std::string>& inputs);

bool HasGlobChars(std::string_view s);

// Lists the files of `input` (a file, a glob, or a folder) inside the data root, sorted. Every
// path is resolved (symlinks followed, also those found inside a folder) and refused when it
// leaves the root; files found through a link are listed by their resolved path. A folder
// is read recursively; names starting with '.' or '_' are skipped (temporary folders, _SUCCESS,
// _rejects.csv). `accept(name)` filters file names found in folders (a named file is always
// taken). `kind` names what is expected in the "matches no ..." error ("CSV files").
absl::StatusOr<std::vector<std::string>> ListInputFiles(
    const std::string& input, const std::string& data_root,
    const std::function<bool(const std::string& name)>& accept, const char* kind,
    bool recursive = false);

// ".csv", ".csv.gz", ".tsv.zst", ".txt" ... (case-insensitive).
bool LooksLikeCsvName(const std::string& name);
bool LooksLikeParquetName(const std::string& name);

// Escapes a hive partition value for a folder name (percent-encoding of unsafe characters, "."
// and ".." encoded, cut at 200 bytes).
std::string EscapePartitionValue(std::string_view v);

}  // namespace de::engine
