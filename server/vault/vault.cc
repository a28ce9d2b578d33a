#include "server/vault/vault.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::vault {
namespace {

absl::Status CheckNew(const std::string& kind, const std::string& name, const std::string& value,
                      size_t count, bool exists) {
  if (std::string p = Vault::NameProblem(name); !p.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " name '", name, "': ", p));
  }
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " '", name, "' is ", value.size(),
                                                   " bytes; the most is ", kMaxValueBytes));
  }
  if (!exists && count >= kMaxEntries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("there are already ", kMaxEntries, " ", kind, "s; delete some first"));
  }
  return absl::OkStatus();
}

absl::Status NotFound(const std::string& kind, const std::string& name) {
  return absl::NotFoundError(absl::StrCat("no ", kind, " named '", name, "'"));
}

}  // namespace

std::string Vault::NameProblem(const std::string& name) {
  if (name.empty()) return "empty";
  if (name.size() > kMaxNameBytes) return absl::StrCat("longer than ", kMaxNameBytes, " bytes");
  if (absl::ascii_isdigit(name[0])) return "must not start with a digit";
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return "only letters, digits and _ are allowed";
  }
  return "";
}

absl::StatusOr<std::unique_ptr<Vault>> Vault::Open(const std::string& db_path, SecretBox box,
                                                   const common::Clock* clock) {
  DE_ASSIGN_OR_RETURN(auto db, store::Db::Open(db_path));
  std::unique_ptr<Vault> v(new Vault(std::move(db), std::move(box), clock));
  absl::MutexLock lock(&v->mu_);
  DE_RETURN_IF_ERROR(v->LoadLocked());
  return v;
}

absl::Status Vault::LoadLocked() {
  DE_ASSIGN_OR_RETURN(auto vs, db_->Prepare("SELECT name, value, updated_at FROM variables"));
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, vs->Step());
    if (!row) break;
    vars_[vs->Text(0)] = Variable{vs->Text(0), vs->Text(1), vs->Int(2)};
  }
  DE_ASSIGN_OR_RETURN(
      auto ss, db_->Prepare("SELECT name, key_id, nonce, sealed, updated_at FROM secrets"));
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, ss->Step());
    if (!row) break;
    const std::string name = ss->Text(0);
    Secret s;
    s.updated_at = ss->Int(4);
    s.plain = box_.Open(name, Sealed{ss->Text(1), ss->Text(2), ss->Text(3)});
    if (!s.plain.ok()) spdlog::error("secrets: {}", std::string(s.plain.status().message()));
    secrets_[name] = std::move(s);
  }
  return absl::OkStatus();
}

absl::Status Vault::SetVariable(const std::string& name, const std::string& value) {
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(CheckNew("variable", name, value, vars_.size(), vars_.count(name) > 0));
  const int64_t now = NowMs();
  DE_RETURN_IF_ERROR(db_->Cached("INSERT INTO variables (name, value, updated_at) VALUES (?, ?, ?) "
                                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                                 "updated_at = excluded.updated_at")
                         .Bind(1, name)
                         .Bind(2, value)
                         .Bind(3, now)
                         .Run());
  vars_[name] = Variable{name, value, now};
  return absl::OkStatus();
}

absl::StatusOr<Variable> Vault::GetVariable(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = vars_.find(name);
  if (it == vars_.end()) return NotFound("variable", name);
  return it->second;
}

std::vector<Variable> Vault::ListVariables() {
  absl::MutexLock lock(&mu_);
  std::vector<Variable> out;
  for (const auto& [name, v] : vars_) out.push_back(v);
  return out;
}

absl::Status Vault::DeleteVariable(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (!vars_.count(name)) return NotFound("variable", name);
  DE_RETURN_IF_ERROR(db_->Cached("DELETE FROM variables WHERE name = ?").Bind(1, name).Run());
  vars_.erase(name);
  return absl::OkStatus();
}

absl::Status Vault::SetSecret(const std::string& name, const std::string& value) {
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(CheckNew("secret", name, value, secrets_.size(), secrets_.count(name) > 0));
  if (value.empty()) return absl::InvalidArgumentError("a secret's value must not be empty");
  DE_ASSIGN_OR_RETURN(Sealed s, box_.Seal(name, value));
  const int64_t now = NowMs();
  DE_RETURN_IF_ERROR(
      db_->Cached("INSERT INTO secrets (name, key_id, nonce, sealed, updated_at) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET key_id = "
                  "excluded.key_id, nonce = excluded.nonce, sealed = excluded.sealed, "
                  "updated_at = excluded.updated_at")
          .Bind(1, name)
          .Bind(2, s.key_id)
          .Bind(3, s.nonce)
          .Bind(4, s.sealed)
          .Bind(5, now)
          .Run());
  secrets_[name] = Secret{now, value};
  return absl::OkStatus();
}

std::vector<SecretInfo> Vault::ListSecrets() {
  absl::MutexLock lock(&mu_);
  std::vector<SecretInfo> out;
  for (const auto& [name, s] : secrets_) {
    out.push_back({name, s.updated_at,
                   s.plain.ok() ? "" : std::string(s.plain.status().message())});
  }
  return out;
}

absl::Status Vault::DeleteSecret(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (!secrets_.count(name)) return NotFound("secret", name);
  DE_RETURN_IF_ERROR(db_->Cached("DELETE FROM secrets WHERE name = ?").Bind(1, name).Run());
  secrets_.erase(name);
  return absl::OkStatus();
}

bool Vault::HasVariable(const std::string& name) {
  absl::MutexLock lock(&mu_);
  return vars_.count(name) > 0;
}

bool Vault::HasSecret(const std::string& name) {
  absl::MutexLock lock(&mu_);
  return secrets_.count(name) > 0;
}

absl::Status Vault::Resolve(const std::vector<std::string>& var_names,
                            const std::vector<std::string>& secret_names,
                            std::map<std::string, std::string>* vars,
                            std::map<std::string, std::string>* secrets) {
  absl::MutexLock lock(&mu_);
  for (const auto& n : var_names) {
    auto it = vars_.find(n);
    if (it == vars_.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "{{ var.", n, " }}: there is no variable '", n, "' (deleted after the DAG was "
          "submitted? dectl var set ", n, " VALUE)"));
    }
    (*vars)[n] = it->second.value;
  }
  for (const auto& n : secret_names) {
    auto it = secrets_.find(n);
    if (it == secrets_.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "{{ secret.", n, " }}: there is no secret '", n, "' (deleted after the DAG was "
          "submitted? dectl secret set ", n, ")"));
    }
    if (!it->second.plain.ok()) return it->second.plain.status();
    (*secrets)[n] = *it->second.plain;
  }
  return absl::OkStatus();
}

}  // namespace de::vault
