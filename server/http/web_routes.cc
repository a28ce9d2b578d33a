#include "server/http/web_routes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/http/web_assets.h"

namespace de::http {
namespace {

std::string ContentType(const std::string& path) {
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(path, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(path, ".png")) return "image/png";
  return "application/octet-stream";
}

Response Asset(const std::string& path) {
  Response r;
  const auto& assets = EmbeddedWebAssets();
  auto it = assets.find(path);
  if (it == assets.end()) {
    r.status = 404;
    r.body = absl::StrCat("no such file: ", path, "\n");
    return r;
  }
  r.content_type = ContentType(path);
  r.body = std::string(it->second);
  r.headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-cache"},
  };
  return r;
}

}  // namespace

void RegisterWebRoutes(HttpServer* server) {
  auto index = [](const Request&) { return Asset("/index.html"); };
  server->Handle("GET", "/", index);
  server->Handle("GET", "/(dags|runs|backfills|workers|alerts)(/.*)?", index);
  server->Handle("GET", "/assets(/[A-Za-z0-9_.-]+)",
                 [](const Request& r) { return Asset(r.captures[0]); });
}

}  // namespace de::http
