#include "server/http/http_server.h"

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace de::http {
namespace {

// A regular expression matching exactly `path`.
std::string Quote(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_') out += '\\';
    out += c;
  }
  return out;
}

// The client's address as gRPC writes a peer (ipv4:ADDR:PORT, ipv6:[ADDR]:PORT).
std::string Peer(const httplib::Request& req) {
  if (req.remote_addr.find(':') != std::string::npos) {
    return absl::StrCat("ipv6:[", req.remote_addr, "]:", req.remote_port);
  }
  return absl::StrCat("ipv4:", req.remote_addr, ":", req.remote_port);
}

// Converts the library's request, runs the auth hook (if any) and `handler`, and writes the
// response.
void Serve(const HttpServer::AuthHook& auth, const HttpServer::RequestHandler& handler,
           const httplib::Request& req, httplib::Response& res) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  for (size_t i = 1; i < req.matches.size(); ++i) r.captures.push_back(req.matches[i].str());
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers.emplace(absl::AsciiStrToLower(k), v);
  r.body = req.body;
  r.peer = Peer(req);
  std::optional<Response> deny;
  if (auth) deny = auth(&r);
  Response out = deny ? std::move(*deny) : handler(r);
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k, v);
  res.set_content(out.body, out.content_type);
}

}  // namespace

std::string Request::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::string Request::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

namespace {

// The library's defaults set SO_REUSEPORT, which lets a second process bind a port that is
// already serving: a busy port must be an error instead.
void NoReusePort(httplib::Server* server) {
  server->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->set_payload_max_length(1 << 20);   // request bodies are small JSON messages
}

}  // namespace

HttpServer::HttpServer() : server_(std::make_unique<httplib::Server>()) {
  NoReusePort(server_.get());
}

absl::Status HttpServer::UseTls(TlsSetup setup) {
  auto tls = std::make_unique<httplib::SSLServer>(
      [setup = std::move(setup)](SSL_CTX& ctx) { return setup(&ctx); });
  if (!tls->is_valid()) return absl::InvalidArgumentError("--http: cannot set up TLS");
  server_ = std::move(tls);
  NoReusePort(server_.get());
  return absl::OkStatus();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& path, Handler handler) {
  Handle("GET", Quote(path), [h = std::move(handler)](const Request&) { return h(); });
}

void HttpServer::Handle(const std::string& method, const std::string& pattern,
                        RequestHandler handler) {
  routes_.push_back({method, pattern, std::move(handler)});
}

absl::StatusOr<std::string> HttpServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http: '", address, "' is not HOST:PORT (e.g. 127.0.0.1:9464)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // Unmatched GET and POST paths pass the auth hook too before their 404.
  auto no_such_page = [](const Request& r) {
    Response out;
    out.status = 404;
    out.body = absl::StrCat("no such page: ", r.path, "\n");
    return out;
  };
  std::vector<RouteEntry> routes = routes_;
  routes.push_back({"GET", ".*", no_such_page});
  routes.push_back({"POST", ".*", no_such_page});
  for (const RouteEntry& route : routes) {
    auto serve = [auth = auth_hook_, h = route.handler](const httplib::Request& req,
                                                        httplib::Response& res) {
      Serve(auth, h, req, res);
    };
    if (route.method == "POST") {
      server_->Post(route.pattern, serve);
    } else {
      server_->Get(route.pattern, serve);
    }
  }
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound <= 0) {
      return absl::UnavailableError(absl::StrCat("--http: cannot listen on ", address));
    }
  } else if (!server_->bind_to_port(host, port)) {
    return absl::UnavailableError(absl::StrCat(
        "--http: cannot listen on ", address,
        " (the port is in use or the address is not local); choose another with --http "
        "HOST:PORT, port 0 for any free port, or --http '' to turn HTTP off"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  const bool v6 = host.find(':') != std::string::npos;
  return v6 ? absl::StrCat("[", host, "]:", bound) : absl::StrCat(host, ":", bound);
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace de::http
