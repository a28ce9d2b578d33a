#include "server/auth/token_store.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::auth {
namespace {

// The raw 32-byte SHA-256 of `s` (the key of the in-memory table).
std::string Sha256(absl::string_view s) {
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), h);
  return std::string(reinterpret_cast<const char*>(h), sizeof(h));
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

constexpr int64_t kLastUsedWriteEveryMs = 60'000;

}  // namespace

std::string TokenStore::Hash(absl::string_view secret) {
  return absl::BytesToHexString(Sha256(secret));
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

// Replaces the memory with the table (whose last-used times must be current: flush first).
absl::Status TokenStore::LoadLocked() {
  DE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT name, role, token_sha256, created_at, "
                                           "expires_at, last_used_at FROM auth_tokens"));
  absl::flat_hash_map<std::string, Entry> by_hash;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    Entry e;
    e.token.name = s->Text(0);
    auto role = ParseRole(s->Text(1));
    if (!role) return absl::DataLossError(absl::StrCat("token ", e.token.name, ": bad role"));
    e.token.role = *role;
    std::string hash = absl::HexStringToBytes(s->Text(2));
    if (hash.size() != SHA256_DIGEST_LENGTH) {
      return absl::DataLossError(absl::StrCat("token ", e.token.name, ": bad hash"));
    }
    e.token.created_at = s->Int(3);
    e.token.expires_at = s->Int(4);
    e.token.last_used_at = e.stored_last_used = s->Int(5);
    by_hash.emplace(std::move(hash), std::move(e));
  }
  by_hash_ = std::move(by_hash);
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
  for (const auto& [hash, e] : by_hash_) {
    if (e.token.name == name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a token named '", name, "' exists (revoke it first: dectl token revoke ", name, ")"));
    }
  }
  Entry e;
  e.token.name = name;
  e.token.role = role;
  e.token.created_at = NowMs();
  if (expires_in != absl::ZeroDuration()) {
    e.token.expires_at = e.token.created_at + absl::ToInt64Milliseconds(expires_in);
  }
  store::Stmt& s = db_->Cached(
      "INSERT INTO auth_tokens (name, role, token_sha256, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, name).Bind(2, std::string(RoleName(role))).Bind(3, Hash(secret));
  s.Bind(4, e.token.created_at).Bind(5, e.token.expires_at);
  DE_RETURN_IF_ERROR(s.Run());
  by_hash_.emplace(Sha256(secret), std::move(e));
  return secret;
}

absl::Status TokenStore::EnsureAdmin(const std::string& name, const std::string& secret) {
  if (secret.empty()) return absl::InvalidArgumentError("the admin token is empty");
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(FlushLocked());   // the reload below reads the last-used times back
  store::Stmt& s = db_->Cached(
      "INSERT INTO auth_tokens (name, role, token_sha256, created_at) VALUES (?, 'admin', ?, ?) "
      "ON CONFLICT(name) DO UPDATE SET role = 'admin', token_sha256 = excluded.token_sha256, "
      "expires_at = 0 WHERE auth_tokens.token_sha256 != excluded.token_sha256 OR "
      "auth_tokens.role != 'admin' OR auth_tokens.expires_at != 0");
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
  absl::erase_if(by_hash_, [&](const auto& kv) { return kv.second.token.name == name; });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Token>> TokenStore::List() {
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(FlushLocked());
  std::vector<Token> out;
  for (const auto& [hash, e] : by_hash_) out.push_back(e.token);
  std::sort(out.begin(), out.end(), [](const Token& a, const Token& b) { return a.name < b.name; });
  return out;
}

std::optional<Token> TokenStore::Lookup(absl::string_view secret) {
  const std::string hash = Sha256(secret);
  const int64_t now = NowMs();
  absl::MutexLock lock(&mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  Entry& e = it->second;
  if (e.token.expires_at != 0 && e.token.expires_at <= now) return std::nullopt;
  e.token.last_used_at = now;
  if (now - e.last_write_at >= kLastUsedWriteEveryMs) {
    e.last_write_at = now;
    if (absl::Status st = WriteLastUsedLocked(e); !st.ok()) {
      spdlog::warn("cannot write the last-used time of token '{}': {}", e.token.name,
                   std::string(st.message()));
    }
  }
  return e.token;
}

bool TokenStore::Empty() {
  absl::MutexLock lock(&mu_);
  return by_hash_.empty();
}

absl::Status TokenStore::Flush() {
  absl::MutexLock lock(&mu_);
  return FlushLocked();
}

absl::Status TokenStore::WriteLastUsedLocked(Entry& e) {
  store::Stmt& s = db_->Cached("UPDATE auth_tokens SET last_used_at = ? WHERE name = ?");
  s.Bind(1, e.token.last_used_at).Bind(2, e.token.name);
  DE_RETURN_IF_ERROR(s.Run());
  e.stored_last_used = e.token.last_used_at;
  return absl::OkStatus();
}

absl::Status TokenStore::FlushLocked() {
  for (auto& [hash, e] : by_hash_) {
    if (e.token.last_used_at != e.stored_last_used) DE_RETURN_IF_ERROR(WriteLastUsedLocked(e));
  }
  return absl::OkStatus();
}

}  // namespace de::auth
