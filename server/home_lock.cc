#include "server/home_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace de::server {

absl::Status LockHome(const std::string& home) {
  const std::string path = home + "/scheduler.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder(256, '\0');
    ssize_t n = pread(fd, holder.data(), holder.size(), 0);
    holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
    close(fd);
    if (err != EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat("cannot lock ", path, ": ", strerror(err)));
    }
    holder = std::string(absl::StripAsciiWhitespace(holder));
    return absl::FailedPreconditionError(absl::StrCat(
        "another de-scheduler (", holder.empty() ? "pid unknown" : holder,
        ") is already running on DE_HOME ", home, " (it holds ", path,
        "); stop it first or start this one with another --home"));
  }
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "unknown host");
  const std::string who = absl::StrCat("pid ", getpid(), " on ", host, "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", strerror(err)));
  }
  // The descriptor is deliberately never closed: closing it would release the lock.
  return absl::OkStatus();
}

}  // namespace de::server
