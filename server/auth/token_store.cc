#include "server/auth/token_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::auth {
namespace {

void Sha256(absl::string_view s, unsigned char out[32]) {
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
}

// "de_" + 43 characters of base64url: 256 random bits.
absl::StatusOr<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("cannot get random bytes for a token");
  }
  std::string out;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)), &out);
  return "de_" + out;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string TokenStore::Hash(absl::string_view secret) {
  unsigned char h[32];
  Sha256(secret, h);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h), 32));
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& db_path,
                                                             const common::Clock* clock) {
  DE_ASSIGN_OR_RETURN(auto db, store::Db::Open(db_path));
  std::unique_ptr<TokenStore> s(new TokenStore(std::move(db), clock));
  absl::MutexLock lock(&s->mu_);
  DE_RETURN_IF_ERROR(s->LoadLocked());
  return s;
}

int64_t TokenStore::NowMs() const { return absl::ToUnixMillis(clock_->Now()); }

absl::Status TokenStore::LoadLocked() {
  DE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT name, role, token_sha256, created_at, "
                                           "expires_at, last_used_at FROM auth_tokens"));
  std::vector<Entry> entries;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    Entry e;
    e.token.name = s->Text(0);
    auto role = ParseRole(s->Text(1));
    if (!role) return absl::DataLossError(absl::StrCat("token ", e.token.name, ": bad role"));
    e.token.role = *role;
    std::string hash = absl::HexStringToBytes(s->Text(2));
    if (hash.size() != 32) return absl::DataLossError(absl::StrCat("token ", e.token.name, ": bad hash"));
    memcpy(e.hash, hash.data(), 32);
    e.token.created_at = s->Int(3);
    e.token.expires_at = s->Int(4);
    e.token.last_used_at = e.flushed_last_used = s->Int(5);
    entries.push_back(std::move(e));
  }
  // Keep last-used times not yet written.
  for (Entry& e : entries) {
    for (const Entry& old : entries_) {
      if (old.token.name == e.token.name) {
        e.token.last_used_at = std::max(e.token.last_used_at, old.token.last_used_at);
      }
    }
  }
  entries_ = std::move(entries);
  return absl::OkStatus();
}

absl::StatusOr<std::string> TokenStore::Create(const std::string& name, Role role,
                                               absl::Duration expires_in) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token name '", name, "' must be 1-64 letters, digits, '-', '_' or '.'"));
  }
  if (expires_in < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("token expiry must be positive");
  }
  DE_ASSIGN_OR_RETURN(std::string secret, NewSecret());
  absl::MutexLock lock(&mu_);
  for (const Entry& e : entries_) {
    if (e.token.name == name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a token named '", name, "' exists (revoke it first: dectl token revoke ", name, ")"));
    }
  }
  const int64_t now = NowMs();
  store::Stmt& s = db_->Cached(
      "INSERT INTO auth_tokens (name, role, token_sha256, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, name).Bind(2, std::string(RoleName(role))).Bind(3, Hash(secret)).Bind(4, now);
  s.Bind(5, expires_in == absl::ZeroDuration() ? int64_t{0}
                                               : now + absl::ToInt64Milliseconds(expires_in));
  DE_RETURN_IF_ERROR(s.Run());
  DE_RETURN_IF_ERROR(LoadLocked());
  return secret;
}

absl::Status TokenStore::EnsureAdmin(const std::string& name, const std::string& secret) {
  if (secret.empty()) return absl::InvalidArgumentError("the admin token is empty");
  absl::MutexLock lock(&mu_);
  store::Stmt& s = db_->Cached(
      "INSERT INTO auth_tokens (name, role, token_sha256, created_at) VALUES (?, 'admin', ?, ?) "
      "ON CONFLICT(name) DO UPDATE SET role = 'admin', token_sha256 = excluded.token_sha256, "
      "expires_at = 0 WHERE token_sha256 != excluded.token_sha256 OR role != 'admin' OR "
      "expires_at != 0");
  s.Bind(1, name).Bind(2, Hash(secret)).Bind(3, NowMs());
  DE_RETURN_IF_ERROR(s.Run());
  return LoadLocked();
}

absl::Status TokenStore::Revoke(const std::string& name) {
  absl::MutexLock lock(&mu_);
  store::Stmt& s = db_->Cached("DELETE FROM auth_tokens WHERE name = ?");
  s.Bind(1, name);
  DE_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("no token named '", name, "' (dectl token list)"));
  }
  return LoadLocked();
}

absl::StatusOr<std::vector<Token>> TokenStore::List() {
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(FlushLocked());
  std::vector<Token> out;
  for (const Entry& e : entries_) out.push_back(e.token);
  std::sort(out.begin(), out.end(), [](const Token& a, const Token& b) { return a.name < b.name; });
  return out;
}

std::optional<Token> TokenStore::Lookup(absl::string_view secret) {
  unsigned char h[32];
  Sha256(secret, h);
  const int64_t now = NowMs();
  absl::MutexLock lock(&mu_);
  Entry* found = nullptr;
  // Every entry is compared (no early exit), each in constant time.
  for (Entry& e : entries_) {
    const bool match = CRYPTO_memcmp(e.hash, h, sizeof(h)) == 0;
    if (match) found = &e;
  }
  if (found == nullptr) return std::nullopt;
  if (found->token.expires_at != 0 && found->token.expires_at <= now) return std::nullopt;
  found->token.last_used_at = now;
  return found->token;
}

bool TokenStore::Empty() {
  absl::MutexLock lock(&mu_);
  return entries_.empty();
}

absl::Status TokenStore::Flush() {
  absl::MutexLock lock(&mu_);
  return FlushLocked();
}

absl::Status TokenStore::FlushLocked() {
  for (Entry& e : entries_) {
    if (e.token.last_used_at == e.flushed_last_used) continue;
    store::Stmt& s = db_->Cached("UPDATE auth_tokens SET last_used_at = ? WHERE name = ?");
    s.Bind(1, e.token.last_used_at).Bind(2, e.token.name);
    DE_RETURN_IF_ERROR(s.Run());
    e.flushed_last_used = e.token.last_used_at;
  }
  return absl::OkStatus();
}

}  // namespace de::auth
