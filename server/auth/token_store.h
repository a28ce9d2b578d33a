// Bearer tokens: created with a role and an optional expiry, stored as the SHA-256 of the token
// (never the token), looked up on every call. All tokens are held in memory, keyed by that hash,
// and every change goes through this object (the row and the memory under one lock), so a
// revoked or expired token is refused on the very next call. (A hash-map lookup of the SHA-256
// of a 256-bit random token leaks nothing usable about any token: no constant-time scan.)
// "Last used" is written at most once a minute per token from the lookup (so it survives a
// kill -9 to within a minute), and in full at List() and Flush(). Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/auth/roles.h"
#include "server/store/sqlite.h"

namespace de::auth {

struct Token {
  std::string name;
  Role role = Role::kViewer;
  int64_t created_at = 0;     // ms
  int64_t expires_at = 0;     // ms, 0 = never
  int64_t last_used_at = 0;   // ms, 0 = never
};

class TokenStore {
 public:
  // Opens its own connection to the (already migrated) database at `db_path`.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(const std::string& db_path,
                                                          const common::Clock* clock);

  // Creates token `name`; returns the plaintext (shown to the user once). `expires_in` zero =
  // never. An existing name is an error.
  absl::StatusOr<std::string> Create(const std::string& name, Role role,
                                     absl::Duration expires_in);
  // Makes `secret` the admin token named `name` (creating it, or replacing its hash if the
  // secret changed): idempotent across restarts with the same file.
  absl::Status EnsureAdmin(const std::string& name, const std::string& secret);
  absl::Status Revoke(const std::string& name);
  // Every token (never its value); also writes the in-memory last-used times.
  absl::StatusOr<std::vector<Token>> List();
  // The live (unexpired) token whose value is `secret`, marking it used; nullopt otherwise.
  // Writes the last-used time if its stored one is a minute old (a failure is only logged).
  std::optional<Token> Lookup(absl::string_view secret);
  bool Empty();
  // Writes last-used times to the database.
  absl::Status Flush();

  // The stored form of a token: lowercase hex SHA-256.
  static std::string Hash(absl::string_view secret);

 private:
  struct Entry {
    Token token;
    int64_t stored_last_used = 0;   // what the table holds
    int64_t last_write_at = 0;      // when Lookup last tried to write it
  };
  TokenStore(std::unique_ptr<store::Db> db, const common::Clock* clock)
      : db_(std::move(db)), clock_(clock) {}
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteLastUsedLocked(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t NowMs() const;

  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  const common::Clock* clock_;
  // Raw 32-byte SHA-256 -> token.
  absl::flat_hash_map<std::string, Entry> by_hash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace de::auth
