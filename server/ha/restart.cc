#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "server/ha/restart.h"
#include "spdlog/spdlog.h"

namespace de::ha {

void RestartSelf(char** argv) {
  spdlog::default_logger()->flush();
  // Nothing of this process is inherited but stdio: not the DE_HOME lock, not the listeners,
  // not the database connections (the new process opens its own).
  std::vector<int> fds;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      int fd = std::atoi(e->d_name);
      if (fd > 2 && fd != dirfd(d)) fds.push_back(fd);
    }
    closedir(d);
  }
  for (int fd : fds) fcntl(fd, F_SETFD, FD_CLOEXEC);
  execv("/proc/self/exe", argv);
  spdlog::critical("cannot restart as a standby ({}); exiting", std::strerror(errno));
  spdlog::default_logger()->flush();
  _exit(75);
}

}  // namespace de::ha
