#include "server/store/wal_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace de::store {

WalSync::WalSync(std::string wal_path, Options options)
    : wal_path_(std::move(wal_path)), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

WalSync::~WalSync() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
  if (fd_ >= 0) close(fd_);
}

uint64_t WalSync::Committed(int wal_pages) {
  absl::MutexLock lock(&mu_);
  wal_pages_ = wal_pages;
  return ++committed_;
}

uint64_t WalSync::CommitSeq() {
  absl::MutexLock lock(&mu_);
  return committed_;
}

int64_t WalSync::syncs() {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

bool WalSync::AwaitDurable(uint64_t seq) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return synced_ >= seq || failed_; };
  mu_.Await(absl::Condition(&done));
  return synced_ >= seq;
}

int WalSync::SyncOnce() {
  if (fd_ < 0) {
    fd_ = open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return -1;
    // The WAL may be new: its name must be on disk too.
    const std::string dir = std::filesystem::path(wal_path_).parent_path().string();
    int dfd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  return options_.sync ? options_.sync(fd_) : fdatasync(fd_);
}

void WalSync::Loop() {
  while (true) {
    uint64_t target = 0;
    bool checkpoint = false;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || committed_ > synced_;
      };
      mu_.Await(absl::Condition(&work));
      if (committed_ == synced_) return;   // stopping, all synced
      target = committed_;
      checkpoint = options_.checkpoint && wal_pages_ >= options_.checkpoint_pages;
      if (checkpoint) wal_pages_ = 0;   // the next commits say how far it got
    }
    const int rc = SyncOnce();   // the commits go on meanwhile: the next sync takes them all
    const std::string error = rc == 0 ? "" : std::strerror(errno);
    {
      absl::MutexLock lock(&mu_);
      ++syncs_;
      if (rc == 0) synced_ = target;
      if (rc != 0) failed_ = true;
    }
    if (rc == 0) {
      if (checkpoint) options_.checkpoint();
      continue;
    }
    const std::string msg = absl::StrCat("cannot sync ", wal_path_, ": ", error);
    if (options_.on_failure) return options_.on_failure(msg);
    spdlog::critical("{}; exiting. What was committed since the last sync may not be on disk and "
                     "was reported to nobody; the restart recovers what is.", msg);
    spdlog::shutdown();
    std::_Exit(75);
  }
}

}  // namespace de::store
