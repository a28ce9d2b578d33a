// Vault: the variables (plain values) and secrets (sealed by a SecretBox) that DAG templates
// reach as {{ var.NAME }} and {{ secret.NAME }}. Rows live in the database (tables variables and
// secrets, migration 0006); every value is also held in memory so that dispatch never reads the
// disk or decrypts, and every change goes to the row first, then to memory, under one lock.
// A secret's plaintext never leaves through List: only Resolve (for the attempt that uses it)
// returns it. Thread-safe; callers may hold their own locks (Vault calls nothing outside).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/store/sqlite.h"
#include "server/vault/secret_box.h"

namespace de::vault {

struct Variable {
  std::string name;
  std::string value;
  int64_t updated_at = 0;   // ms
};

struct SecretInfo {
  std::string name;
  int64_t updated_at = 0;   // ms
  std::string problem;      // why it cannot be opened (e.g. another key sealed it); "" = fine
};

// What a client may send.
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxValueBytes = 64 * 1024;
inline constexpr size_t kMaxEntries = 10'000;   // of each kind

class Vault {
 public:
  // Opens its own connection to the (already migrated) database and loads every row, opening
  // each secret with `box` (a secret that does not open is kept, with its problem, not lost).
  static absl::StatusOr<std::unique_ptr<Vault>> Open(const std::string& db_path, SecretBox box,
                                                     const common::Clock* clock);

  // Errors name the problem: an invalid name, a value too long, too many entries, a store error.
  absl::Status SetVariable(const std::string& name, const std::string& value);
  absl::StatusOr<Variable> GetVariable(const std::string& name);
  std::vector<Variable> ListVariables();
  absl::Status DeleteVariable(const std::string& name);   // NotFound if there is none

  absl::Status SetSecret(const std::string& name, const std::string& value);
  std::vector<SecretInfo> ListSecrets();
  absl::Status DeleteSecret(const std::string& name);

  bool HasVariable(const std::string& name);
  bool HasSecret(const std::string& name);
  // The values for one attempt: an error names the first that is missing or cannot be opened.
  absl::Status Resolve(const std::vector<std::string>& var_names,
                       const std::vector<std::string>& secret_names,
                       std::map<std::string, std::string>* vars,
                       std::map<std::string, std::string>* secrets);

  // "" or why `name` cannot be a variable or secret name.
  static std::string NameProblem(const std::string& name);

 private:
  struct Secret {
    int64_t updated_at = 0;
    absl::StatusOr<std::string> plain;
  };
  Vault(std::unique_ptr<store::Db> db, SecretBox box, const common::Clock* clock)
      : clock_(clock), box_(std::move(box)), db_(std::move(db)) {}
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t NowMs() const { return absl::ToUnixMillis(clock_->Now()); }

  // Constant after construction.
  const common::Clock* const clock_;
  const SecretBox box_;

  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Variable> vars_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Secret> secrets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace de::vault
