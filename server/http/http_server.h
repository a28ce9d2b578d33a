// The scheduler's one HTTP listener (cpp-httplib): a small route table of handlers, served by the
// library's own thread pool: /metrics, the JSON API (/api/v1/, api_routes.h) and the page (/,
// web_routes.h). Handlers run on the listener's threads and must not hold the scheduling lock
// while they read the store.
// Thread-safe: Route() before Start(); Stop() from any thread (also from the destructor).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct ssl_ctx_st;

namespace httplib {
class Server;
}

namespace de::http {

struct Request {
  std::string method;
  std::string path;
  std::vector<std::string> captures;           // the route pattern's groups, in order
  std::map<std::string, std::string> query;    // first value of each query parameter
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;                     // the client, as gRPC names peers: ipv4:127.0.0.1:51234
  std::string caller = "anonymous";     // who sent it, as the auth hook found (a token's name)
  std::string caller_role;              // the caller's role; empty for anonymous

  // The query parameter `name`, or `fallback` when absent.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  // The header `name` (any case), or "".
  std::string Header(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;   // extra response headers
};

class HttpServer {
 public:
  using Handler = std::function<Response()>;
  // Runs before every GET and POST route (and before their 404): returns a response to send
  // instead (401/403), or nullopt to go on after filling in req->caller and req->caller_role.
  using AuthHook = std::function<std::optional<Response>(Request* req)>;
  // Configures the TLS context of an HTTPS listener (certificate selection); false = failure.
  using TlsSetup = std::function<bool(ssl_ctx_st* ctx)>;
  using RequestHandler = std::function<Response(const Request&)>;

  HttpServer();
  ~HttpServer();

  // Serves GET `path` (exact match) with `handler`.
  void Route(const std::string& path, Handler handler);
  // Before Start(): every request passes `hook` first.
  void SetAuthHook(AuthHook hook) { auth_hook_ = std::move(hook); }
  // Before Start(): serve HTTPS, the TLS context set up by `setup`.
  absl::Status UseTls(TlsSetup setup);
  // Serves `method` (GET or POST) on paths matching the regular expression `pattern` (the whole
  // path; groups become Request::captures). Routes are tried in the order they were added.
  void Handle(const std::string& method, const std::string& pattern, RequestHandler handler);
  // Binds HOST:PORT (port 0 picks a free one) and starts serving. Returns the bound address
  // ("127.0.0.1:9464"). A busy port or a bad address is an error naming it.
  absl::StatusOr<std::string> Start(const std::string& address);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  AuthHook auth_hook_;
  struct RouteEntry {
    std::string method;
    std::string pattern;
    RequestHandler handler;
  };
  std::vector<RouteEntry> routes_;
  std::thread thread_;
};

}  // namespace de::http
