// A loopback TCP proxy whose traffic a test can freeze: the connections stay open, nothing goes
// through (a network partition as a worker sees it: writes are buffered, no answer comes, no
// reset). Thaw() lets it flow again.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace de::testing {

class TcpProxy {
 public:
  // Forwards 127.0.0.1:<port()> to `target` (HOST:PORT).
  explicit TcpProxy(const std::string& target);
  ~TcpProxy();
  std::string address() const;
  void Freeze();
  void Thaw();

 private:
  void AcceptLoop();
  void Pump(int a, int b);

  int target_port_ = 0;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace de::testing
