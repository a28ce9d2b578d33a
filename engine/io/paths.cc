#include "engine/io/paths.h"

#include <glob.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::engine {

namespace fs = std::filesystem;

absl::StatusOr<fs::path> ResolveInsideRoot(const std::string& p, const std::string& data_root,
                                           const char* what) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(data_root), ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("data root ", data_root, ": ", ec.message()));
  fs::path full = fs::path(p).is_absolute() ? fs::path(p) : root / p;
  full = fs::weakly_canonical(full, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(what, " ", p, ": ", ec.message()));
  // "lake/.." of a missing "lake" normalizes to "root/": drop the trailing separator, so that
  // the result compares equal to the root.
  if (!full.has_filename() && full.has_parent_path()) full = full.parent_path();
  fs::path rel = full.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") {
    return absl::PermissionDeniedError(absl::StrCat(what, " '", p, "' is outside the data root ",
                                                    root.string()));
  }
  return full;
}

absl::StatusOr<std::string> ResolveOutputFolder(const std::string& p, const std::string& data_root) {
  std::string out = p;
  if (out.empty()) return absl::InvalidArgumentError("output: empty path");
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  DE_ASSIGN_OR_RETURN(fs::path out_path, ResolveInsideRoot(out, data_root, "output"));
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(data_root), ec);
  if (out_path == root || out_path.lexically_relative(root) == ".") {
    return absl::InvalidArgumentError("output: must be a folder inside the data root, not the root");
  }
  return out_path.string();
}

absl::Status CheckOutputApart(const std::string& output, const std::vector<std::string>& inputs) {
  const fs::path out = fs::path(output).lexically_normal();
  for (const std::string& in : inputs) {
    fs::path rel = fs::path(in).lexically_normal().lexically_relative(out);
    if (!rel.empty() && *rel.begin() != "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", in, " is inside the output folder ", output, " (it would be replaced)"));
    }
  }
  return absl::OkStatus();
}

bool HasGlobChars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool LooksLikeCsvName(const std::string& name) {
  std::string n = absl::AsciiStrToLower(name);
  for (const char* z : {".gz", ".zst", ".zstd"}) {
    if (absl::EndsWith(n, z)) n.resize(n.size() - std::strlen(z));
  }
  return absl::EndsWith(n, ".csv") || absl::EndsWith(n, ".tsv") || absl::EndsWith(n, ".txt");
}

bool LooksLikeParquetName(const std::string& name) {
  std::string n = absl::AsciiStrToLower(name);
  return absl::EndsWith(n, ".parquet") || absl::EndsWith(n, ".parq") || absl::EndsWith(n, ".pq");
}

namespace {

bool Hidden(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '_'; }

constexpr int kMaxFolderDepth = 32;  // below Linux's 40 symlinks per path lookup

// Every entry is resolved (symlinks followed) and checked against the data root before it is
// listed or descended into: a link inside a drop folder must not bring in a file from outside.
absl::Status ListFolder(const fs::path& dir, bool recursive, const std::string& data_root,
                        const std::function<bool(const std::string&)>& accept,
                        std::vector<std::string>* files, int depth = 0) {
  if (depth > kMaxFolderDepth) {
    return absl::InvalidArgumentError(absl::StrCat("input ", dir.string(), ": folders nested more "
                                                   "than ", kMaxFolderDepth, " deep (a symlink loop?)"));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (Hidden(name)) continue;
    fs::path entry = e.path();
    if (e.is_symlink(ec)) {
      DE_ASSIGN_OR_RETURN(entry, ResolveInsideRoot(e.path().string(), data_root, "input"));
    }
    if (recursive && fs::is_directory(entry, ec)) {
      DE_RETURN_IF_ERROR(ListFolder(entry, recursive, data_root, accept, files, depth + 1));
    } else if (fs::is_regular_file(entry, ec) && accept(name)) {
      files->push_back(entry.string());
    }
  }
  if (ec) return absl::InternalError(absl::StrCat(dir.string(), ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListInputFiles(
    const std::string& input, const std::string& data_root,
    const std::function<bool(const std::string& name)>& accept, const char* kind, bool recursive) {
  std::vector<std::string> files;
  std::error_code ec;
  if (HasGlobChars(input)) {
    fs::path root = fs::weakly_canonical(fs::absolute(data_root), ec);
    fs::path pattern = fs::path(input).is_absolute() ? fs::path(input) : root / input;
    glob_t g;
    int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        auto f = ResolveInsideRoot(g.gl_pathv[i], data_root, "input");
        if (!f.ok()) {
          ::globfree(&g);
          return f.status();
        }
        if (fs::is_regular_file(*f, ec)) files.push_back(f->string());
      }
    }
    ::globfree(&g);
  } else {
    DE_ASSIGN_OR_RETURN(fs::path p, ResolveInsideRoot(input, data_root, "input"));
    if (fs::is_directory(p, ec)) {
      DE_RETURN_IF_ERROR(ListFolder(p, recursive, data_root, accept, &files));
    } else if (fs::exists(p, ec)) {
      files.push_back(p.string());
    } else {
      return absl::NotFoundError(absl::StrCat("input ", input, ": no such file or folder"));
    }
  }
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("input ", input, ": matches no ", kind));
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::string EscapePartitionValue(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) {
    bool unsafe = c < 0x20 || c == 0x7f || std::strchr("\"#%'*/:=?\\{}[]^<>|", c) != nullptr;
    if (unsafe && c != 0) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else if (c == 0) {
      out.append("%00");
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (out == "." || out == "..") {
    std::string dots;
    for (size_t i = 0; i < out.size(); ++i) dots += "%2E";
    return dots;
  }
  if (out.size() > 200) out = out.substr(0, 200);  // keep folder names within NAME_MAX
  return out;
}

}  // namespace de::engine
