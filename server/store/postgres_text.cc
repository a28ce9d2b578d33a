// The PostgreSQL store's text helpers: SQLSTATE to status, placeholders, redacted URLs.
#include <cctype>

#include "absl/strings/str_cat.h"
#include "server/store/postgres.h"

namespace de::store {

namespace {
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
}  // namespace

absl::Status PgStatus(std::string_view sqlstate, std::string_view msg) {
  std::string m(msg);
  if (sqlstate.empty() || StartsWith(sqlstate, "08")) {
    return absl::UnavailableError(absl::StrCat("connection to PostgreSQL lost: ", m));
  }
  if (sqlstate == "53100") return absl::ResourceExhaustedError(absl::StrCat("disk full: ", m));
  if (StartsWith(sqlstate, "53")) {
    return absl::ResourceExhaustedError(absl::StrCat("PostgreSQL out of resources: ", m));
  }
  if (sqlstate == "58030") return absl::UnavailableError(absl::StrCat("I/O error: ", m));
  if (StartsWith(sqlstate, "57P")) {
    return absl::UnavailableError(absl::StrCat("PostgreSQL is not available: ", m));
  }
  if (sqlstate == "55P03" || sqlstate == "40001" || sqlstate == "40P01") {
    return absl::UnavailableError(
        absl::StrCat("database busy (another connection holds its lock): ", m));
  }
  if (sqlstate == "XX001" || sqlstate == "XX002") {
    return absl::DataLossError(absl::StrCat("database is corrupt: ", m));
  }
  return absl::InternalError(absl::StrCat("postgres: ", m));
}

std::string PgPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int highest = 0;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {   // a quoted string or identifier, doubled quotes inside
      size_t end = sql.find(c, i + 1);
      while (end != std::string_view::npos && end + 1 < sql.size() && sql[end + 1] == c) {
        end = sql.find(c, end + 2);
      }
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '?') {
      size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      int n = j > i + 1 ? std::atoi(std::string(sql.substr(i + 1, j - i - 1)).c_str())
                        : highest + 1;
      highest = std::max(highest, n);
      absl::StrAppend(&out, "$", n);
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string RedactPgUrl(std::string_view url) {
  std::string s(url);
  size_t scheme = s.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t at = s.find('@', start);
    size_t slash = s.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  size_t p = s.find("password=");
  if (p != std::string::npos) {
    size_t end = s.find('&', p);
    s.replace(p + 9, (end == std::string::npos ? s.size() : end) - p - 9, "***");
  }
  return s;
}

}  // namespace de::store
