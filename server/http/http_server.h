// The scheduler's one HTTP listener (cpp-httplib): a small route table of GET handlers, served by
// the library's own thread pool. /metrics today; the JSON API and the page later. Handlers run on
// the listener's threads and must not take the scheduling lock.
// Thread-safe: Route() before Start(); Stop() from any thread (also from the destructor).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

struct ssl_ctx_st;

namespace httplib {
class Server;
}

namespace de::http {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<Response()>;
  // Runs before every route (and before 404): returns a response to send instead (401/403), or
  // nullopt to go on. `authorization` is the Authorization header ("Bearer TOKEN"), or empty.
  using AuthHook = std::function<std::optional<Response>(
      const std::string& method, const std::string& path, const std::string& authorization)>;
  // Configures the TLS context of an HTTPS listener (certificate selection); false = failure.
  using TlsSetup = std::function<bool(ssl_ctx_st* ctx)>;

  HttpServer();
  ~HttpServer();

  // Serves GET `path` (exact match) with `handler`.
  void Route(const std::string& path, Handler handler);
  // Before Start(): every request passes `hook` first.
  void SetAuthHook(AuthHook hook) { auth_hook_ = std::move(hook); }
  // Before Start(): serve HTTPS, the TLS context set up by `setup`.
  absl::Status UseTls(TlsSetup setup);
  // Binds HOST:PORT (port 0 picks a free one) and starts serving. Returns the bound address
  // ("127.0.0.1:9464"). A busy port or a bad address is an error naming it.
  absl::StatusOr<std::string> Start(const std::string& address);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::map<std::string, Handler> routes_;
  AuthHook auth_hook_;
  std::thread thread_;
};

}  // namespace de::http
