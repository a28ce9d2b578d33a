// Unit tests of server/vault: AES-256-GCM sealing (another key, a damaged row, a row moved to
// another name), the key file (made 0600, read back, a bad file named), and the Vault's
// variables and secrets (persisted, never stored in clear, names and sizes checked, resolved
// per attempt with a clear error for a missing one).
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "de/v1/vault.pb.h"
#include "server/auth/audit_args.h"
#include "server/store/store.h"
#include "server/vault/secret_box.h"
#include "server/vault/vault.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::vault {
namespace {

using ::testing::HasSubstr;
using testing_util::TempDir;

SecretBox Box(char fill) { return *SecretBox::FromKey(std::string(32, fill)); }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SecretBox, SealsAndOpensAndRefusesAnotherKeyDamageAndMoves) {
  SecretBox box = Box('a');
  auto sealed = box.Seal("api_key", "hunter2");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_FALSE(absl::StrContains(sealed->sealed, absl::BytesToHexString("hunter2")));
  EXPECT_EQ(*box.Open("api_key", *sealed), "hunter2");
  // Every seal has its own nonce.
  EXPECT_NE(box.Seal("api_key", "hunter2")->nonce, sealed->nonce);

  auto other = Box('b').Open("api_key", *sealed);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(), HasSubstr("was the secrets key file replaced?"));

  Sealed damaged = *sealed;
  damaged.sealed[0] = damaged.sealed[0] == '0' ? '1' : '0';
  EXPECT_EQ(box.Open("api_key", damaged).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open("other_name", *sealed).status().code(), absl::StatusCode::kDataLoss);
  Sealed not_hex = *sealed;
  not_hex.nonce = "zz";
  EXPECT_EQ(box.Open("api_key", not_hex).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SecretBox, KeyFileIsMadeOnceWithMode600AndABadOneIsNamed) {
  TempDir dir;
  const std::string path = dir.File("secrets.key");
  bool created = false;
  auto first = SecretBox::OpenKeyFile(path, &created);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(created);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(Slurp(path).size(), 65u);   // 64 hex characters and a newline
  auto again = SecretBox::OpenKeyFile(path, &created);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(again->key_id(), first->key_id());
  EXPECT_EQ(*again->Open("x", *first->Seal("x", "v")), "v");

  std::ofstream(dir.File("bad.key")) << "not a key\n";
  auto bad = SecretBox::OpenKeyFile(dir.File("bad.key"), &created);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(dir.File("bad.key")));
  EXPECT_THAT(bad.status().message(), HasSubstr("64 hex characters"));
}

class VaultTest : public ::testing::TestWithParam<testing_util::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    db_path_ = testing_util::FreshLocation(GetParam(), dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(db_path_, skip);
    auto store = store::Store::Open(db_path_);   // applies the migrations
    ASSERT_TRUE(store.ok()) << store.status();
    vault_ = Reopen('k');
  }
  std::unique_ptr<Vault> Reopen(char key) {
    auto v = Vault::Open(db_path_, Box(key), &clock_);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? std::move(*v) : nullptr;
  }
  TempDir dir_;
  std::string db_path_;
  common::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<Vault> vault_;
};

INSTANTIATE_TEST_SUITE_P(Backends, VaultTest, DE_BOTH_BACKENDS);

TEST_P(VaultTest, VariablesPersistAndAreReplacedAndDeleted) {
  ASSERT_OK(vault_->SetVariable("region", "eu-west-1"));
  ASSERT_OK(vault_->SetVariable("region", "us-east-2"));
  ASSERT_OK(vault_->SetVariable("bucket", "lake"));
  auto restarted = Reopen('k');
  auto v = restarted->GetVariable("region");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->value, "us-east-2");
  EXPECT_EQ(v->updated_at, 1700000000000);
  EXPECT_EQ(restarted->ListVariables().size(), 2u);
  ASSERT_OK(restarted->DeleteVariable("bucket"));
  EXPECT_EQ(restarted->DeleteVariable("bucket").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Reopen('k')->GetVariable("bucket").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(VaultTest, NamesAndSizesAreChecked) {
  EXPECT_THAT(vault_->SetVariable("a-b", "x").message(),
              HasSubstr("variable name 'a-b': only letters, digits and _ are allowed"));
  EXPECT_THAT(vault_->SetVariable("1st", "x").message(), HasSubstr("must not start with a digit"));
  EXPECT_THAT(vault_->SetSecret("", "x").message(), HasSubstr("empty"));
  EXPECT_THAT(vault_->SetSecret("k", "").message(), HasSubstr("must not be empty"));
  EXPECT_THAT(vault_->SetVariable("big", std::string(kMaxValueBytes + 1, 'x')).message(),
              HasSubstr("the most is 65536"));
}

TEST_P(VaultTest, SecretsAreSealedAtRestAndOnlyResolveReturnsThem) {
  ASSERT_OK(vault_->SetSecret("api_key", "hunter2-s3cret"));
  ASSERT_OK(vault_->SetVariable("region", "eu"));
  // Not in the database in clear: not in the file (nor its WAL), not in any row on PostgreSQL.
  if (GetParam() == testing_util::Backend::kSqlite) {
    EXPECT_FALSE(absl::StrContains(Slurp(db_path_) + Slurp(db_path_ + "-wal"), "hunter2-s3cret"));
  } else {
    auto db = store::Db::Open(db_path_);
    ASSERT_TRUE(db.ok()) << db.status();
    auto s = (*db)->Prepare("SELECT string_agg(t::text, ' ') FROM secrets t");
    ASSERT_TRUE(s.ok() && *(*s)->Step());
    EXPECT_THAT((*s)->Text(0), HasSubstr("api_key"));
    EXPECT_FALSE(absl::StrContains((*s)->Text(0), "hunter2-s3cret")) << (*s)->Text(0);
  }
  auto list = vault_->ListSecrets();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "api_key");
  EXPECT_EQ(list[0].problem, "");

  auto restarted = Reopen('k');
  std::map<std::string, std::string> vars, secrets;
  ASSERT_OK(restarted->Resolve({"region"}, {"api_key"}, &vars, &secrets));
  EXPECT_EQ(vars["region"], "eu");
  EXPECT_EQ(secrets["api_key"], "hunter2-s3cret");

  absl::Status missing = restarted->Resolve({}, {"nope"}, &vars, &secrets);
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("there is no secret 'nope'"));
  EXPECT_THAT(restarted->Resolve({"nope"}, {}, &vars, &secrets).message(),
              HasSubstr("{{ var.nope }}: there is no variable 'nope'"));
}

TEST_P(VaultTest, ASecretSealedByAnotherKeyIsKeptListedWithItsProblemAndRefused) {
  ASSERT_OK(vault_->SetSecret("api_key", "hunter2"));
  auto other = Reopen('z');   // the key file was replaced
  auto list = other->ListSecrets();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_THAT(list[0].problem, HasSubstr("was the secrets key file replaced?"));
  std::map<std::string, std::string> vars, secrets;
  EXPECT_EQ(other->Resolve({}, {"api_key"}, &vars, &secrets).code(),
            absl::StatusCode::kFailedPrecondition);
  // Setting it again with the new key mends it.
  ASSERT_OK(other->SetSecret("api_key", "new"));
  ASSERT_OK(Reopen('z')->Resolve({}, {"api_key"}, &vars, &secrets));
  EXPECT_EQ(secrets["api_key"], "new");
}

// The audit trail records who set which secret, never its value.
TEST(VaultAudit, ASecretsValueIsStarredInTheAuditArgs) {
  v1::SetSecretRequest req;
  req.set_name("api_key");
  req.set_secret_value("hunter2");
  const std::string args = auth::AuditArgs(req);
  EXPECT_THAT(args, HasSubstr("api_key"));
  EXPECT_THAT(args, HasSubstr("***"));
  EXPECT_FALSE(absl::StrContains(args, "hunter2")) << args;
}

}  // namespace
}  // namespace de::vault
