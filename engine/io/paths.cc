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
  if (out_path == root) {
    return absl::InvalidArgumentError("output: must be a folder inside the data root, not the root");
  }
  return out_path.string();
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

absl::Status ListFolder(const fs::path& dir, bool recursive,
                        const std::function<bool(const std::string&)>& accept,
                        std::vector<std::string>* files) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (Hidden(name)) continue;
    if (recursive && e.is_directory(ec)) {
      DE_RETURN_IF_ERROR(ListFolder(e.path(), recursive, accept, files));
    } else if (e.is_regular_file(ec) && accept(name)) {
      files->push_back(e.path().string());
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
      DE_RETURN_IF_ERROR(ListFolder(p, recursive, accept, &files));
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
