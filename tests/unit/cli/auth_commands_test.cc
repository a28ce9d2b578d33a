// dectl token create|list|revoke and dectl audit against a fake Auth service: what they send,
// what they print (table and -o json alike), and their usage errors.
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
#include "tests/unit/cli/cli_fixture.h"
#include "de/v1/auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

using ::testing::HasSubstr;

class FakeAuth final : public de::v1::Auth::Service {
 public:
  grpc::Status CreateToken(grpc::ServerContext*, const de::v1::CreateTokenRequest* req,
                           de::v1::CreateTokenResponse* resp) override {
    absl::MutexLock lock(&mu_);
    last_create_ = *req;
    resp->mutable_info()->set_name(req->name());
    resp->mutable_info()->set_role(req->role());
    resp->set_token("de_s3cret");
    return grpc::Status::OK;
  }
  grpc::Status ListTokens(grpc::ServerContext*, const de::v1::ListTokensRequest*,
                          de::v1::ListTokensResponse* resp) override {
    auto* t = resp->add_tokens();
    t->set_name("ci");
    t->set_role("operator");
    return grpc::Status::OK;
  }
  grpc::Status RevokeToken(grpc::ServerContext*, const de::v1::RevokeTokenRequest* req,
                           de::v1::RevokeTokenResponse*) override {
    if (req->name() != "ci") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no token 'x'");
    return grpc::Status::OK;
  }
  grpc::Status ListAudit(grpc::ServerContext*, const de::v1::ListAuditRequest* req,
                         de::v1::ListAuditResponse*) override {
    absl::MutexLock lock(&mu_);
    last_audit_ = *req;
    return grpc::Status::OK;
  }

  template <typename T>
  T Get(T FakeAuth::*field) {
    absl::MutexLock lock(&mu_);
    return this->*field;
  }
  absl::Mutex mu_;
  de::v1::CreateTokenRequest last_create_ ABSL_GUARDED_BY(mu_);
  de::v1::ListAuditRequest last_audit_ ABSL_GUARDED_BY(mu_);
};

using AuthCommandsTest = CliFixture<FakeAuth>;

TEST_F(AuthCommandsTest, TokenCreateListRevoke) {
  Result r = Cli({"token", "create", "ci", "--role", "operator", "--expires", "90d"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake_.Get(&FakeAuth::last_create_).expires_in_ms(), 90LL * 24 * 3600 * 1000);
  EXPECT_THAT(r.out, HasSubstr("It is shown only now; keep it secret:\nde_s3cret\n"));

  r = Cli({"token", "create", "ci", "--role", "operator", "--expires", "soon"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--expires: 'soon' is not a positive duration (e.g. 90d, 12h)"));

  r = Cli({"token", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ci    operator"));

  r = Cli({"token", "revoke", "ci"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "revoked token 'ci'\n");
  // -o json prints JSON for every command, revoke included (an empty object).
  r = Cli({"-o", "json", "token", "revoke", "ci"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{}\n");
  r = Cli({"token", "revoke", "x"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("no token 'x'"));
}

TEST_F(AuthCommandsTest, AuditSinceIsADurationOrADate) {
  Result r = Cli({"audit", "--since", "2024-01-31", "--dag", "d", "--limit", "7"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "no audit entries\n");
  de::v1::ListAuditRequest req = fake_.Get(&FakeAuth::last_audit_);
  EXPECT_EQ(req.since_ms(), 1706659200000);  // 2024-01-31 00:00 UTC
  EXPECT_EQ(req.dag_id(), "d");
  EXPECT_EQ(req.limit(), 7);

  r = Cli({"audit", "--since", "yesterday"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--since: 'yesterday' is neither a duration (1h, 7d) nor a date "
                               "(2024-01-31)"));
}

}  // namespace
}  // namespace de::cli
