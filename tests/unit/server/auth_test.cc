// Unit tests of server/auth: the role table covers every RPC, roles, the authorizer's decisions,
// the token store (hashed, revocation and expiry at once), audit arguments, the listen policy.
#include <google/protobuf/descriptor.h>

#include "absl/strings/match.h"
#include "de/v1/auth.pb.h"
#include "de/v1/vault.pb.h"
#include "de/v1/operator.pb.h"
#include "de/v1/worker.pb.h"
#include "gtest/gtest.h"
#include "server/auth/audit_args.h"
#include "server/auth/audit_log.h"
#include "server/auth/authorizer.h"
#include "server/auth/listen_policy.h"
#include "server/auth/method_roles.h"
#include "server/auth/token_store.h"
#include "server/store/store.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::auth {
namespace {

using testing_util::TempDir;

// Every method of every service in de/v1 has an entry, so none is served unchecked.
TEST(MethodRoles, EveryRpcOfEveryServiceHasAnEntry) {
  (void)de::v1::SetSecretRequest::descriptor();   // links vault.proto's descriptor in
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int methods = 0;
  for (const char* file : {"de/v1/operator.proto", "de/v1/worker.proto", "de/v1/auth.proto",
                           "de/v1/vault.proto"}) {
    const auto* fd = pool->FindFileByName(file);
    ASSERT_NE(fd, nullptr) << file;
    for (int s = 0; s < fd->service_count(); ++s) {
      const auto* service = fd->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const std::string path = "/" + service->full_name() + "/" + service->method(m)->name();
        EXPECT_TRUE(LookupMethod(path).has_value()) << path << " has no role table entry";
        ++methods;
      }
    }
  }
  EXPECT_GE(methods, 24);
  EXPECT_FALSE(LookupMethod("/de.v1.Operator/NoSuchCall").has_value());
}

TEST(MethodRoles, GroupsAndAudit) {
  EXPECT_EQ(LookupMethod("/de.v1.Operator/ListRuns")->role, Role::kViewer);
  EXPECT_FALSE(LookupMethod("/de.v1.Operator/ListRuns")->mutating);
  EXPECT_EQ(LookupMethod("/de.v1.Operator/Trigger")->role, Role::kOperator);
  EXPECT_TRUE(LookupMethod("/de.v1.Operator/Trigger")->mutating);
  EXPECT_EQ(LookupMethod("/de.v1.Operator/DeleteDag")->role, Role::kAdmin);
  EXPECT_EQ(LookupMethod("/de.v1.Operator/CleanHistory")->role, Role::kAdmin);   // db clean
  EXPECT_TRUE(LookupMethod("/de.v1.Operator/CleanHistory")->mutating);
  EXPECT_EQ(LookupMethod("/de.v1.Auth/CreateToken")->role, Role::kAdmin);
  EXPECT_EQ(LookupMethod("/de.v1.WorkerService/Session")->role, Role::kWorker);
}

TEST(Roles, WhoMayDoWhat) {
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kWorker));
  EXPECT_TRUE(RoleAllows(Role::kOperator, Role::kViewer));
  EXPECT_FALSE(RoleAllows(Role::kOperator, Role::kAdmin));
  EXPECT_FALSE(RoleAllows(Role::kViewer, Role::kOperator));
  EXPECT_FALSE(RoleAllows(Role::kWorker, Role::kViewer));
  EXPECT_FALSE(RoleAllows(Role::kViewer, Role::kWorker));
  EXPECT_EQ(ParseRole("operator"), Role::kOperator);
  EXPECT_FALSE(ParseRole("root").has_value());
}

class TokenTest : public ::testing::TestWithParam<testing_util::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    db_path_ = testing_util::FreshLocation(GetParam(), dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(db_path_, skip);
    auto store = store::Store::Open(db_path_);   // applies the migrations
    ASSERT_TRUE(store.ok()) << store.status();
    auto tokens = TokenStore::Open(db_path_, &clock_);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = std::move(*tokens);
  }
  TempDir dir_;
  std::string db_path_;
  common::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<TokenStore> tokens_;
};

INSTANTIATE_TEST_SUITE_P(Backends, TokenTest, DE_BOTH_BACKENDS);

TEST_P(TokenTest, StoredHashedNeverInClear) {
  auto secret = tokens_->Create("ci", Role::kOperator, absl::ZeroDuration());
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_TRUE(absl::StartsWith(*secret, "de_"));
  EXPECT_GE(secret->size(), 40u);
  auto db = store::Db::Open(db_path_);
  ASSERT_TRUE(db.ok());
  auto s = (*db)->Prepare("SELECT token_sha256 FROM auth_tokens WHERE name = 'ci'");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*(*s)->Step());
  EXPECT_EQ((*s)->Text(0), TokenStore::Hash(*secret));
  EXPECT_FALSE(absl::StrContains((*s)->Text(0), secret->substr(3)));
  auto found = tokens_->Lookup(*secret);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "ci");
  EXPECT_FALSE(tokens_->Lookup(*secret + "x").has_value());
  EXPECT_FALSE(tokens_->Create("ci", Role::kViewer, absl::ZeroDuration()).ok());
  EXPECT_FALSE(tokens_->Create("bad name", Role::kViewer, absl::ZeroDuration()).ok());
}

TEST_P(TokenTest, RevokedAndExpiredRefusedAtOnce) {
  auto a = tokens_->Create("a", Role::kViewer, absl::ZeroDuration());
  auto b = tokens_->Create("b", Role::kViewer, absl::Hours(1));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(tokens_->Lookup(*a).has_value());
  EXPECT_TRUE(tokens_->Lookup(*b).has_value());
  ASSERT_TRUE(tokens_->Revoke("a").ok());
  EXPECT_FALSE(tokens_->Lookup(*a).has_value());
  EXPECT_EQ(tokens_->Revoke("a").code(), absl::StatusCode::kNotFound);
  clock_.Advance(absl::Hours(1));
  EXPECT_FALSE(tokens_->Lookup(*b).has_value());
}

TEST_P(TokenTest, InitAdminIsIdempotentAndSurvivesReopen) {
  ASSERT_TRUE(tokens_->EnsureAdmin("admin", "hunter2").ok());
  ASSERT_TRUE(tokens_->EnsureAdmin("admin", "hunter2").ok());
  auto list = tokens_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  const int64_t created = (*list)[0].created_at;
  auto again = TokenStore::Open(db_path_, &clock_);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->EnsureAdmin("admin", "hunter2").ok());
  auto found = (*again)->Lookup("hunter2");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->role, Role::kAdmin);
  EXPECT_EQ(found->created_at, created);
}

// "Last used" reaches the table from the lookup itself (at most once a minute per token), so a
// scheduler killed without a flush keeps it to within a minute.
TEST_P(TokenTest, LastUsedSurvivesAKillWithoutFlush) {
  auto secret = tokens_->Create("ci", Role::kOperator, absl::ZeroDuration());
  ASSERT_TRUE(secret.ok()) << secret.status();
  const int64_t first = absl::ToUnixMillis(clock_.Now());
  ASSERT_TRUE(tokens_->Lookup(*secret).has_value());
  auto stored = [&]() -> int64_t {
    auto other = TokenStore::Open(db_path_, &clock_);   // what a restart would read
    EXPECT_TRUE(other.ok()) << other.status();
    auto list = (*other)->List();
    EXPECT_TRUE(list.ok() && list->size() == 1u);
    return (*list)[0].last_used_at;
  };
  EXPECT_EQ(stored(), first);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(tokens_->Lookup(*secret).has_value());
  EXPECT_EQ(stored(), first) << "not rewritten on every call";
  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(tokens_->Lookup(*secret).has_value());
  EXPECT_EQ(stored(), absl::ToUnixMillis(clock_.Now()));
  auto list = tokens_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0].last_used_at, absl::ToUnixMillis(clock_.Now()));
}

TEST_P(TokenTest, AuthorizerDecisions) {
  Authorizer open(tokens_.get(), {});
  EXPECT_TRUE(open.CheckGrpc("/de.v1.Operator/DeleteDag", "", false).status.ok())
      << "without tokens every call is anonymous";
  EXPECT_EQ(open.CheckGrpc("/de.v1.Operator/DeleteDag", "", false).caller.name, "anonymous");
  EXPECT_EQ(open.CheckGrpc("/de.v1.Operator/Nope", "", false).status.code(),
            absl::StatusCode::kPermissionDenied);

  auto viewer = tokens_->Create("x", Role::kViewer, absl::ZeroDuration());
  ASSERT_TRUE(viewer.ok());
  Decision none = open.CheckGrpc("/de.v1.Operator/ListDags", "", false);
  EXPECT_EQ(none.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(none.status.message(), "no token"));
  Decision bad = open.CheckGrpc("/de.v1.Operator/ListDags", "Bearer nope", false);
  EXPECT_EQ(bad.status.message(), "unknown or revoked or expired token");
  Decision read = open.CheckGrpc("/de.v1.Operator/ListDags", "Bearer " + *viewer, false);
  EXPECT_TRUE(read.status.ok());
  EXPECT_EQ(read.caller.name, "x");
  Decision trigger = open.CheckGrpc("/de.v1.Operator/Trigger", "Bearer " + *viewer, false);
  EXPECT_EQ(trigger.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(trigger.status.message(), "Trigger needs role operator; token 'x' has viewer");
  EXPECT_EQ(open.CheckHttp("GET", "/metrics", "").status.code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(open.CheckHttp("GET", "/metrics", "Bearer " + *viewer).status.ok());
  // The page's files load without a token (they hold no data); its API reads need viewer and
  // its actions operator.
  EXPECT_TRUE(open.CheckHttp("GET", "/", "").status.ok());
  EXPECT_TRUE(open.CheckHttp("GET", "/assets/app.js", "").status.ok());
  EXPECT_EQ(open.CheckHttp("GET", "/api/v1/dags", "").status.code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(open.CheckHttp("GET", "/api/v1/dags", "Bearer " + *viewer).status.ok());
  Decision post = open.CheckHttp("POST", "/api/v1/dags/d/trigger", "Bearer " + *viewer);
  EXPECT_EQ(post.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(post.status.message(), "needs role operator")) << post.status;

  auto worker = tokens_->Create("w", Role::kWorker, absl::ZeroDuration());
  ASSERT_TRUE(worker.ok());
  Authorizer certs(tokens_.get(), {.worker_needs_client_cert = true});
  EXPECT_EQ(certs.CheckGrpc("/de.v1.WorkerService/Session", "Bearer " + *worker, false)
                .status.code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(certs.CheckGrpc("/de.v1.WorkerService/Session", "Bearer " + *worker, true)
                  .status.ok());
  EXPECT_EQ(certs.CheckGrpc("/de.v1.Operator/ListDags", "Bearer " + *worker, true).status.code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(TokenTest, TokensAlwaysRequiredBeyondLoopback) {
  Authorizer strict(tokens_.get(), {.always_require_tokens = true});
  EXPECT_EQ(strict.CheckGrpc("/de.v1.Operator/ListDags", "", false).status.code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_P(TokenTest, AuditRowsRoundTrip) {
  auto log = AuditLog::Open(db_path_, &clock_);
  ASSERT_TRUE(log.ok());
  AuditRow row;
  row.who = "ci";
  row.method = "Trigger";
  row.dag_id = "d1";
  row.args = "{}";
  auto id = (*log)->Begin(row);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE((*log)->Finish(*id, "", "ok", "").ok());
  row.dag_id = "d2";
  ASSERT_TRUE((*log)->Begin(row).ok());
  auto all = (*log)->List(0, "", 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].dag_id, "d2");
  EXPECT_EQ((*all)[0].outcome, "pending");
  EXPECT_EQ((*all)[1].outcome, "ok");
  auto d1 = (*log)->List(0, "d1", 0);
  ASSERT_TRUE(d1.ok());
  ASSERT_EQ(d1->size(), 1u);
  auto later = (*log)->List(absl::ToUnixMillis(clock_.Now()) + 1, "", 0);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
  EXPECT_EQ((*log)->List(0, "", 10'001).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AuditArgs, ShortAndWithoutSecrets) {
  v1::SubmitDagRequest submit;
  submit.set_yaml(std::string(5000, 'x'));
  submit.set_source("a.yaml");
  const std::string json = AuditArgs(submit);
  EXPECT_TRUE(absl::StrContains(json, "[5000 bytes]")) << json;
  EXPECT_TRUE(absl::StrContains(json, "a.yaml")) << json;
  v1::TriggerRequest trigger;
  trigger.set_dag_id("d");
  (*trigger.mutable_conf())["who"] = "x\"y";
  EXPECT_TRUE(absl::StrContains(AuditArgs(trigger), "\"who\":\"x\\\"y\"")) << AuditArgs(trigger);
  EXPECT_EQ(DagIdOf(trigger), "d");
  v1::CreateTokenResponse resp;
  resp.set_token("de_secret");
  EXPECT_FALSE(absl::StrContains(AuditArgs(resp), "de_secret"));
}

TEST(ListenPolicy, Refusals) {
  EXPECT_TRUE(CheckListenAddress("--listen", "127.0.0.1:7070", false, false, false).ok());
  absl::Status no_tokens = CheckListenAddress("--listen", "0.0.0.0:7070", false, true, true);
  EXPECT_EQ(no_tokens.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(no_tokens.message(), "without tokens")) << no_tokens;
  absl::Status plain = CheckListenAddress("--listen", "0.0.0.0:7070", true, false, false);
  EXPECT_TRUE(absl::StrContains(plain.message(), "without TLS")) << plain;
  EXPECT_TRUE(CheckListenAddress("--listen", "0.0.0.0:7070", true, false, true).ok());
  EXPECT_TRUE(CheckListenAddress("--http", "0.0.0.0:9464", true, true, false).ok());
}

}  // namespace
}  // namespace de::auth
