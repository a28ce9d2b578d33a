#include "engine/io/output_commit.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/json.h"

namespace de::engine {

namespace fs = std::filesystem;

std::string RandomSuffix() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(::getpid()));
  return absl::StrFormat("%012x", gen() & 0xffffffffffffull);
}

absl::Status FsyncPath(const std::string& path, bool dir) {
  int fd = ::open(path.c_str(), (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("fsync ", path, ": ", std::strerror(errno)));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("fsync ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

namespace {

absl::Status WriteWholeFile(const std::string& path, const std::string& content) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok &= std::fclose(f) == 0;
  if (!ok) return absl::InternalError(absl::StrCat(path, ": write failed (disk full?)"));
  return absl::OkStatus();
}

// Removes leftovers of crashed runs next to `out`; restores an output that a crash left renamed
// aside (the two-rename fallback of the swap).
void RecoverSiblings(const fs::path& out) {
  std::error_code ec;
  const std::string tmp_prefix = absl::StrCat(".", out.filename().string(), ".tmp-");
  const std::string old_prefix = absl::StrCat(".", out.filename().string(), ".old-");
  std::vector<fs::path> olds;
  for (const auto& e : fs::directory_iterator(out.parent_path(), ec)) {
    std::string name = e.path().filename().string();
    if (absl::StartsWith(name, tmp_prefix)) fs::remove_all(e.path(), ec);
    if (absl::StartsWith(name, old_prefix)) olds.push_back(e.path());
  }
  for (const auto& old : olds) {
    if (!fs::exists(out, ec) && fs::exists(old / "_SUCCESS", ec)) {
      fs::rename(old, out, ec);
    } else {
      fs::remove_all(old, ec);
    }
  }
}

// Moves `tmp` into place as `out`; a previous `out` is swapped out and removed.
absl::Status SwapIntoPlace(const fs::path& tmp, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    if (::rename(tmp.c_str(), out.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("rename ", tmp.string(), " -> ", out.string(), ": ",
                                              std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  // Atomic exchange: readers see the old or the new folder, never neither.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp, ec);
    return absl::OkStatus();
  }
  fs::path old =
      out.parent_path() / absl::StrCat(".", out.filename().string(), ".old-", RandomSuffix());
  if (::rename(out.c_str(), old.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", out.string(), ": ", std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    int err = errno;
    ::rename(old.c_str(), out.c_str());
    return absl::InternalError(absl::StrCat("rename ", tmp.string(), ": ", std::strerror(err)));
  }
  fs::remove_all(old, ec);
  return absl::OkStatus();
}

}  // namespace

std::string ManifestJson(const Manifest& m) {
  int64_t bytes = 0;
  std::string files = "[";
  for (size_t i = 0; i < m.files.size(); ++i) {
    if (i) files += ",";
    bytes += m.files[i].bytes;
    absl::StrAppend(&files, "{\"path\":", JsonString(m.files[i].rel_path), ",\"rows\":",
                    m.files[i].rows, ",\"bytes\":", m.files[i].bytes, "}");
  }
  files += "]";
  std::vector<std::string> parts;
  for (const auto& p : m.partition_by) parts.push_back(JsonString(p));
  const std::string created_at =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  std::string out = absl::StrCat(
      "{\"format\":", JsonString(m.format), ",\"codec\":", m.codec.empty() ? "null" : JsonString(m.codec),
      ",\"rows\":", m.rows, ",\"bytes\":", bytes, ",\"files\":", files,
      ",\"schema\":", SchemaJson(m.schema), ",\"partition_by\":[", absl::StrJoin(parts, ","),
      "],\"rows_in\":", m.rows_in, ",\"rows_rejected\":", m.rows_rejected,
      ",\"rejects_file\":", m.has_rejects ? "\"_rejects.csv\"" : "null",
      ",\"created_at\":\"", created_at, "\",\"created_by\":", JsonString(m.created_by));
  if (!m.extra_json.empty()) absl::StrAppend(&out, ",", m.extra_json);
  return out + "}\n";
}

absl::StatusOr<std::unique_ptr<OutputCommit>> OutputCommit::Begin(const std::string& output) {
  const fs::path out(output);
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat(out.parent_path().string(), ": ", ec.message()));
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("output ", out.string(), " exists and is not a folder"));
  }
  RecoverSiblings(out);
  fs::path tmp =
      out.parent_path() / absl::StrCat(".", out.filename().string(), ".tmp-", RandomSuffix());
  if (!fs::create_directory(tmp, ec) || ec) {
    return absl::InternalError(absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  }
  return std::unique_ptr<OutputCommit>(new OutputCommit(out, tmp));
}

OutputCommit::~OutputCommit() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

absl::Status OutputCommit::Commit(const Manifest& m, bool fsync) {
  DE_RETURN_IF_ERROR(WriteWholeFile((tmp_ / "_SUCCESS").string(), ManifestJson(m)));
  if (fsync) {
    std::set<fs::path> dirs = {tmp_};
    for (const auto& f : m.files) {
      DE_RETURN_IF_ERROR(FsyncPath((tmp_ / f.rel_path).string(), false));
      dirs.insert((tmp_ / f.rel_path).parent_path());
    }
    if (m.has_rejects) DE_RETURN_IF_ERROR(FsyncPath((tmp_ / "_rejects.csv").string(), false));
    DE_RETURN_IF_ERROR(FsyncPath((tmp_ / "_SUCCESS").string(), false));
    for (const auto& d : dirs) DE_RETURN_IF_ERROR(FsyncPath(d.string(), true));
  }
  DE_RETURN_IF_ERROR(SwapIntoPlace(tmp_, out_));
  committed_ = true;
  if (fsync) DE_RETURN_IF_ERROR(FsyncPath(out_.parent_path().string(), true));
  return absl::OkStatus();
}

RejectsWriter::~RejectsWriter() {
  if (f_) std::fclose(f_);
}

absl::Status RejectsWriter::Write(const std::string& source, const std::vector<CsvReject>& rows) {
  std::string buf;
  for (const auto& r : rows) {
    AppendCsvField(source, &buf);
    absl::StrAppend(&buf, ",", r.line, ",");
    AppendCsvField(r.reason, &buf);
    buf.push_back(',');
    AppendCsvField(r.raw, &buf);
    buf.push_back('\n');
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!f_) {
    f_ = std::fopen(path_.c_str(), "wb");
    if (!f_) return absl::InternalError(absl::StrCat(path_, ": ", std::strerror(errno)));
    opened_ = true;
    std::fputs("source_file,line,reason,raw\n", f_);
  }
  if (std::fwrite(buf.data(), 1, buf.size(), f_) != buf.size()) {
    return absl::InternalError(absl::StrCat(path_, ": write failed (disk full?)"));
  }
  return absl::OkStatus();
}

absl::Status RejectsWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ && std::fclose(f_) != 0) {
    f_ = nullptr;
    return absl::InternalError(absl::StrCat(path_, ": close failed"));
  }
  f_ = nullptr;
  return absl::OkStatus();
}

bool RejectsWriter::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

}  // namespace de::engine
