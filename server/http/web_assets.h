// The web page's files (server/web/), embedded into the binary at build time by
// cmake/embed_web.cmake: path ("/index.html", "/app.js", ...) -> content. Immutable.
#pragma once
#include <map>
#include <string>
#include <string_view>
namespace de::http {
const std::map<std::string, std::string_view>& EmbeddedWebAssets();
}  // namespace de::http
