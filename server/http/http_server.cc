#include "server/http/http_server.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace de::http {

namespace {

// The library's defaults set SO_REUSEPORT, which lets a second process bind a port that is
// already serving: a busy port must be an error instead.
void NoReusePort(httplib::Server* server) {
  server->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
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
  routes_[path] = std::move(handler);
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
  for (const auto& [path, handler] : routes_) {
    Handler h = handler;
    server_->Get(path, [h](const httplib::Request&, httplib::Response& res) {
      Response r = h();
      res.status = r.status;
      res.set_content(r.body, r.content_type);
    });
  }
  if (auth_hook_) {
    server_->set_pre_routing_handler([hook = auth_hook_](const httplib::Request& req,
                                                        httplib::Response& res) {
      std::optional<Response> deny =
          hook(req.method, req.path, req.get_header_value("Authorization"));
      if (!deny) return httplib::Server::HandlerResponse::Unhandled;
      res.status = deny->status;
      res.set_content(deny->body, deny->content_type);
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      res.set_content(absl::StrCat("no such page: ", req.path, "\n"), "text/plain");
    }
  });
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
