#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace de::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

TcpProxy::TcpProxy(const std::string& target)
    : target_port_(std::atoi(target.substr(target.rfind(':') + 1).c_str())) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(0);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  listen(listen_fd_, 16);
  socklen_t len = sizeof(a);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  Thaw();
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

std::string TcpProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TcpProxy::Freeze() {
  absl::MutexLock lock(&mu_);
  frozen_ = true;
}

void TcpProxy::Thaw() {
  absl::MutexLock lock(&mu_);
  frozen_ = false;
}

void TcpProxy::AcceptLoop() {
  while (!stop_) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(target_port_);
    if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(client);
      close(server);
      continue;
    }
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, client, server] { Pump(client, server); });
  }
}

// Copies both ways until either side closes or the proxy stops; while frozen, copies nothing.
void TcpProxy::Pump(int a, int b) {
  char buf[64 * 1024];
  while (!stop_) {
    {
      absl::MutexLock lock(&mu_);
      auto thawed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !frozen_; };
      mu_.AwaitWithTimeout(absl::Condition(&thawed), absl::Milliseconds(100));
      if (frozen_) continue;
    }
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (poll(fds, 2, 50) < 0) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        closed = true;
        break;
      }
      const int to = i == 0 ? b : a;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
        if (w <= 0) {
          closed = true;
          break;
        }
        off += w;
      }
    }
    if (closed) break;
  }
  close(a);
  close(b);
}

}  // namespace de::testing
