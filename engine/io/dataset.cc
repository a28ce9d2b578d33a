#include "engine/io/dataset.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/io/dataset_range.h"
#include "engine/io/paths.h"

namespace de::engine {

namespace fs = std::filesystem;
using dataset_internal::Grain;

namespace {

constexpr const char* kSpecKeys = "path, from, to, allow_missing";

absl::StatusOr<std::string> ScalarString(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return absl::InvalidArgumentError(absl::StrCat(what, ": expected a string"));
  return n.Scalar();
}

}  // namespace

absl::StatusOr<DatasetSpec> ParseDatasetSpec(const YAML::Node& input, const char* what) {
  DatasetSpec spec;
  if (!input || input.IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": missing (a path, glob or folder, or {", kSpecKeys, "})"));
  }
  if (input.IsScalar()) {
    spec.path = input.Scalar();
  } else if (input.IsMap()) {
    for (const auto& kv : input) {
      const std::string key = kv.first.as<std::string>("");
      const std::string key_what = absl::StrCat(what, ".", key);
      if (key == "path") {
        DE_ASSIGN_OR_RETURN(spec.path, ScalarString(kv.second, key_what));
      } else if (key == "from") {
        DE_ASSIGN_OR_RETURN(spec.from, ScalarString(kv.second, key_what));
      } else if (key == "to") {
        DE_ASSIGN_OR_RETURN(spec.to, ScalarString(kv.second, key_what));
      } else if (key == "allow_missing") {
        bool b = false;
        if (!kv.second.IsScalar() || !YAML::convert<bool>::decode(kv.second, b)) {
          return absl::InvalidArgumentError(absl::StrCat(key_what, ": expected true or false"));
        }
        spec.allow_missing = b;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": unknown key '", key, "' (expected ", kSpecKeys, ")"));
      }
    }
    if (!input["path"]) return absl::InvalidArgumentError(absl::StrCat(what, ": `path` is required"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected a path, glob or folder, or a map {", kSpecKeys, "}"));
  }
  if (spec.path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ".path: empty"));
  if (spec.from.has_value() != spec.to.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": `from` and `to` go together (the range is [from, to)); `", spec.from ? "to" : "from",
        "` is missing"));
  }
  // Bounds are checked now unless they are still templates (the loader sees them unrendered).
  for (auto [bound, name] : {std::pair{&spec.from, "from"}, std::pair{&spec.to, "to"}}) {
    if (!*bound || (*bound)->find("{{") != std::string::npos) continue;
    int64_t day;
    bool midnight;
    DE_RETURN_IF_ERROR(dataset_internal::ParseRangeBound(**bound, absl::StrCat(what, ".", name), &day, &midnight));
  }
  return spec;
}

namespace {

// One data file found under the dataset root.
struct Found {
  std::string path;  // absolute
  std::string rel_dir;  // folder relative to the dataset root ("" = the root)
  std::vector<std::string> keys;    // hive keys of the folders, outermost first
  std::vector<std::string> values;  // decoded ("" = null)
  std::vector<bool> nulls;
};

// A folder named `key=value` whose key carries time (dt=..., month=..., ts_day=...).
struct TimeDir {
  std::string rel;  // relative path
  bool complete = false;
};

struct Walk {
  fs::path root;
  std::vector<Found> files;
  std::set<std::string> success;  // relative folders holding _SUCCESS
  std::vector<std::string> dirs;  // every relative folder visited (incl. "")
  int skipped = 0;                // files neither Parquet nor CSV
};

bool HasParquetMagic(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char m[4] = {0};
  size_t n = std::fread(m, 1, 4, f);
  std::fclose(f);
  return n == 4 && m[0] == 'P' && m[1] == 'A' && m[2] == 'R' && m[3] == '1';
}

// Parquet by name or magic, CSV by name; nullopt for other files (skipped in folders).
std::optional<FileFormat> FormatOf(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (LooksLikeParquetName(name)) return FileFormat::kParquet;
  if (LooksLikeCsvName(name)) return FileFormat::kCsv;
  if (HasParquetMagic(path)) return FileFormat::kParquet;
  return std::nullopt;
}

std::string Join(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : absl::StrCat(rel, "/", name);
}

// Splits `rel` (a relative folder) into hive key/value pairs (components without '=' ignored).
void HiveParts(const std::string& rel, Found* f) {
  for (const auto& comp : fs::path(rel)) {
    std::string c = comp.string();
    size_t eq = c.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    bool is_null;
    f->keys.push_back(c.substr(0, eq));
    f->values.push_back(dataset_internal::DecodePartitionValue(std::string_view(c).substr(eq + 1), &is_null));
    f->nulls.push_back(is_null);
  }
}

constexpr int kMaxDepth = 32;  // below Linux's 40 symlinks per path lookup

absl::Status WalkFolder(const fs::path& dir, const std::string& rel, const std::string& data_root,
                        Walk* w, int depth = 0) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(absl::StrCat("input ", dir.string(), ": folders nested more than ",
                                                   kMaxDepth, " deep (a symlink loop?)"));
  }
  w->dirs.push_back(rel);
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e);
  if (ec) return absl::InternalError(absl::StrCat("input ", dir.string(), ": ", ec.message()));
  for (const auto& e : entries) {
    std::string name = e.path().filename().string();
    if (name == "_SUCCESS") w->success.insert(rel);
    if (name.empty() || name[0] == '.' || name[0] == '_') continue;
    if (e.is_symlink(ec)) {  // a link must not lead out of the data root
      DE_RETURN_IF_ERROR(ResolveInsideRoot(e.path().string(), data_root, "input").status());
    }
    if (e.is_directory(ec)) {
      DE_RETURN_IF_ERROR(WalkFolder(e.path(), Join(rel, name), data_root, w, depth + 1));
    } else if (e.is_regular_file(ec)) {
      if (!FormatOf(e.path().string())) {
        ++w->skipped;
        continue;
      }
      Found f;
      f.path = e.path().string();
      f.rel_dir = rel;
      HiveParts(rel, &f);
      w->files.push_back(std::move(f));
    }
  }
  return absl::OkStatus();
}

bool Complete(const Walk& w, std::string rel) {
  while (true) {
    if (w.success.count(rel)) return true;
    if (rel.empty()) return false;
    size_t slash = rel.rfind('/');
    rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  }
}

// Files must agree on format and on partition keys.
absl::Status CheckAgreement(const std::string& input, const fs::path& root,
                            const std::vector<Found>& files, ResolvedDataset* out) {
  auto rel = [&](const std::string& p) { return fs::path(p).lexically_relative(root).string(); };
  const Found* first_of[2] = {nullptr, nullptr};
  for (const Found& f : files) {
    FileFormat fmt = FormatOf(f.path).value_or(FileFormat::kCsv);
    const Found*& slot = first_of[fmt == FileFormat::kParquet ? 1 : 0];
    if (slot == nullptr) slot = &f;
    if (f.keys != files[0].keys) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", input, ": files disagree on their partition folders: ", rel(files[0].path), " has [",
          absl::StrJoin(files[0].keys, ", "), "] but ", rel(f.path), " has [", absl::StrJoin(f.keys, ", "),
          "] (every file of a dataset needs the same key=value folders, in the same order)"));
    }
  }
  if (first_of[0] && first_of[1]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input, ": mixes Parquet and CSV files (", rel(first_of[1]->path), " is Parquet, ",
        rel(first_of[0]->path), " is CSV); a dataset must be one format"));
  }
  out->format = first_of[1] ? FileFormat::kParquet : FileFormat::kCsv;
  out->partition_columns = files.empty() ? std::vector<std::string>{} : files[0].keys;
  for (const Found& f : files) {
    DatasetFile d;
    d.path = f.path;
    d.partition_values = f.values;
    out->files.push_back(std::move(d));
  }
  std::sort(out->files.begin(), out->files.end(),
            [](const DatasetFile& a, const DatasetFile& b) { return a.path < b.path; });
  return absl::OkStatus();
}

std::string Problems(const std::vector<std::string>& problems) {
  std::string s = problems[0];
  if (problems.size() > 1) {
    std::vector<std::string> more(problems.begin() + 1,
                                  problems.begin() + std::min<size_t>(problems.size(), 4));
    absl::StrAppend(&s, " (and ", problems.size() - 1, " more: ", absl::StrJoin(more, "; "),
                    problems.size() > 4 ? "; ..." : "", ")");
  }
  return s;
}

// Keeps the files of the partitions inside [from, to); checks each expected partition.
absl::Status SelectRange(const DatasetSpec& spec, Walk* w, std::vector<Found>* kept,
                         std::vector<std::string>* log) {
  namespace di = dataset_internal;
  int64_t from_day, to_day;
  bool from_midnight, to_midnight;
  DE_RETURN_IF_ERROR(di::ParseRangeBound(*spec.from, "input.from", &from_day, &from_midnight));
  DE_RETURN_IF_ERROR(di::ParseRangeBound(*spec.to, "input.to", &to_day, &to_midnight));
  const std::string range = absl::StrCat("[", spec.from->substr(0, 10), ", ", spec.to->substr(0, 10), ")");
  if (!from_midnight) ++from_day;  // a partition starting before `from` is not inside the range
  if (to_day <= from_day) {
    return absl::InvalidArgumentError(absl::StrCat("input ", spec.path, ": empty time range ", range));
  }
  // The time key: the first hive key that names a day or a month.
  std::string key;
  for (const Found& f : w->files) {
    for (const std::string& k : f.keys) {
      if (di::IsTimeKey(k)) {
        key = k;
        break;
      }
    }
    break;
  }
  // Time folders (also those without data files: an empty day is a day).
  std::map<int64_t, std::vector<TimeDir>> periods;
  std::optional<Grain> grain;
  for (const std::string& rel : w->dirs) {
    std::string last = fs::path(rel).filename().string();
    size_t eq = last.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    if (key.empty() && di::IsTimeKey(last.substr(0, eq))) key = last.substr(0, eq);
    if (last.substr(0, eq) != key) continue;
    bool is_null;
    std::string v = di::DecodePartitionValue(std::string_view(last).substr(eq + 1), &is_null);
    if (is_null) continue;
    Grain g;
    int64_t first;
    if (!di::ParsePeriod(v, &g, &first)) {
      return absl::InvalidArgumentError(absl::StrCat("input ", spec.path, ": partition folder ", rel,
                                                     " is neither a day (YYYY-MM-DD) nor a month (YYYY-MM)"));
    }
    if (grain && *grain != g) {
      return absl::InvalidArgumentError(absl::StrCat("input ", spec.path, ": partition folders of '", key,
                                                     "' mix days and months (", rel, ")"));
    }
    grain = g;
    periods[first].push_back({rel, Complete(*w, rel)});
  }
  if (key.empty() || !grain) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", spec.path, ": `from`/`to` need time partition folders (dt=YYYY-MM-DD, month=YYYY-MM, "
        "or a csv_to_parquet bucket such as ts_day=/ts_month=), and none were found"));
  }
  std::vector<std::string> problems;
  std::set<int64_t> read;
  int expected = 0;
  for (int64_t p = di::FirstPeriodStartingOnOrAfter(*grain, from_day); di::NextPeriod(*grain, p) <= to_day;
       p = di::NextPeriod(*grain, p)) {
    ++expected;
    std::string name = absl::StrCat(key, "=", di::FormatPeriod(*grain, p));
    auto it = periods.find(p);
    if (it == periods.end()) {
      problems.push_back(absl::StrCat("partition ", name, " is missing"));
      continue;
    }
    bool complete = std::all_of(it->second.begin(), it->second.end(), [](const TimeDir& d) { return d.complete; });
    if (!complete) {
      problems.push_back(absl::StrCat("partition ", name, " has no _SUCCESS (half-written or failed)"));
      continue;
    }
    read.insert(p);
  }
  if (expected == 0) {
    return absl::InvalidArgumentError(absl::StrCat("input ", spec.path, ": no whole ",
                                                   *grain == Grain::kDay ? "day" : "month", " in ", range));
  }
  if (!problems.empty()) {
    std::string msg = absl::StrCat(Problems(problems), "; ", read.size(), " of ", expected, " ",
                                   di::GrainPlural(*grain), " in ", range, " are complete");
    if (!spec.allow_missing) {
      return absl::FailedPreconditionError(absl::StrCat("input ", spec.path, ": ", msg,
                                                        "; set allow_missing: true to read the others"));
    }
    log->push_back(absl::StrCat("warning: input ", spec.path, ": ", msg, "; reading those (allow_missing)"));
  }
  size_t ki = 0;
  if (!w->files.empty()) ki = std::find(w->files[0].keys.begin(), w->files[0].keys.end(), key) - w->files[0].keys.begin();
  for (Found& f : w->files) {
    if (ki >= f.keys.size() || f.keys[ki] != key || f.nulls[ki]) continue;
    Grain g;
    int64_t first;
    if (di::ParsePeriod(f.values[ki], &g, &first) && read.count(first)) kept->push_back(std::move(f));
  }
  if (!read.empty()) {
    log->push_back(absl::StrCat("read ", read.size(), read.size() == 1 ? " partition " : " partitions ", key,
                                "=", di::FormatPeriod(*grain, *read.begin()),
                                read.size() > 1 ? absl::StrCat(" .. ", key, "=", di::FormatPeriod(*grain, *read.rbegin())) : "",
                                " (", kept->size(), kept->size() == 1 ? " file)" : " files)"));
  }
  return absl::OkStatus();
}

// Without a range: when the dataset has any _SUCCESS, files outside every _SUCCESS are
// half-written output.
absl::Status SelectComplete(const DatasetSpec& spec, Walk* w, std::vector<Found>* kept,
                            std::vector<std::string>* log) {
  if (w->success.empty()) {
    *kept = std::move(w->files);
    return absl::OkStatus();
  }
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (Found& f : w->files) {
    if (Complete(*w, f.rel_dir)) {
      kept->push_back(std::move(f));
    } else if (seen.insert(f.rel_dir).second) {
      problems.push_back(absl::StrCat("folder ", f.rel_dir.empty() ? "." : f.rel_dir,
                                      " has no _SUCCESS (half-written or failed)"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  std::string msg = absl::StrCat(Problems(problems), " while other parts of the dataset have one");
  if (!spec.allow_missing) {
    return absl::FailedPreconditionError(
        absl::StrCat("input ", spec.path, ": ", msg, "; set allow_missing: true to read the others"));
  }
  log->push_back(absl::StrCat("warning: input ", spec.path, ": ", msg, "; skipped (allow_missing)"));
  return absl::OkStatus();
}

// The folder part of a glob before its first wildcard component.
std::string GlobBase(const std::string& pattern) {
  fs::path base;
  for (const auto& comp : fs::path(pattern)) {
    if (HasGlobChars(comp.string())) break;
    base /= comp;
  }
  return base.string();
}

}  // namespace

absl::StatusOr<ResolvedDataset> ResolveDataset(const DatasetSpec& spec, const std::string& data_root) {
  ResolvedDataset out;
  const bool ranged = spec.from.has_value() || spec.to.has_value();
  if (spec.from.has_value() != spec.to.has_value()) {
    return absl::InvalidArgumentError("input: `from` and `to` go together (the range is [from, to))");
  }
  if (spec.path.empty()) return absl::InvalidArgumentError("input: empty path");
  Walk w;
  std::vector<Found> kept;
  if (HasGlobChars(spec.path)) {
    if (ranged) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", spec.path, ": `from`/`to` need a dataset folder, not a glob"));
    }
    DE_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                        ListInputFiles(spec.path, data_root, [](const std::string&) { return true; },
                                       "files"));
    std::error_code ec;
    fs::path root = fs::weakly_canonical(fs::absolute(data_root), ec);
    std::string base_str = GlobBase(fs::path(spec.path).is_absolute() ? spec.path : (root / spec.path).string());
    fs::path base = fs::weakly_canonical(fs::path(base_str), ec);
    w.root = base;
    for (const std::string& p : paths) {
      Found f;
      f.path = p;
      f.rel_dir = fs::path(p).parent_path().lexically_relative(base).string();
      if (f.rel_dir == ".") f.rel_dir.clear();
      HiveParts(f.rel_dir, &f);
      kept.push_back(std::move(f));
    }
  } else {
    DE_ASSIGN_OR_RETURN(fs::path p, ResolveInsideRoot(spec.path, data_root, "input"));
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      w.root = p;
      DE_RETURN_IF_ERROR(WalkFolder(p, "", data_root, &w));
      if (ranged) {
        DE_RETURN_IF_ERROR(SelectRange(spec, &w, &kept, &out.log));
      } else {
        DE_RETURN_IF_ERROR(SelectComplete(spec, &w, &kept, &out.log));
      }
      if (w.skipped > 0) {
        out.log.push_back(absl::StrCat("input ", spec.path, ": skipped ", w.skipped,
                                       w.skipped == 1 ? " file that is" : " files that are",
                                       " neither Parquet nor CSV"));
      }
    } else if (fs::exists(p, ec)) {
      if (ranged) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", spec.path, ": `from`/`to` need a dataset folder, not a single file"));
      }
      w.root = p.parent_path();
      Found f;
      f.path = p.string();
      kept.push_back(std::move(f));
    } else {
      return absl::NotFoundError(absl::StrCat("input ", spec.path, ": no such file or folder"));
    }
  }
  if (kept.empty()) {
    return absl::NotFoundError(absl::StrCat("input ", spec.path, ": no Parquet or CSV files to read"));
  }
  DE_RETURN_IF_ERROR(CheckAgreement(spec.path, w.root, kept, &out));
  if (!ranged && out.files.size() > 1) {
    out.log.push_back(absl::StrCat("read ", out.files.size(), " files of ", spec.path,
                                   out.partition_columns.empty()
                                       ? std::string()
                                       : absl::StrCat(" (partition columns: ", absl::StrJoin(out.partition_columns, ", "), ")")));
  }
  return out;
}

}  // namespace de::engine
