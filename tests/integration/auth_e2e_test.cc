// End to end with real processes: tokens with roles on every call (each group allowed and
// denied), revocation and expiry at once, the audit trail of every mutating call, the listen
// policy, /metrics with and without a bearer token, the HTTP actions in the same audit trail.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/auth_e2e_util.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(AuthE2E, RolesOnEveryGroupRevokeExpireAndAudit) {
  TempDir keys;
  WriteFile(keys / "admin.token", "first-admin-secret\n");
  Cluster c({"--lease", "1500ms", "--heartbeat", "200ms", "--init-admin-token",
             keys / "admin.token"});
  c.StartScheduler();
  std::vector<std::unique_ptr<Process>> workers;
  const std::string admin = "first-admin-secret";
  std::string out;

  // No token: UNAUTHENTICATED on loopback too.
  EXPECT_EQ(c.Dectl({"dag", "list"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "not authenticated")) << out;
  EXPECT_TRUE(absl::StrContains(out, "no token")) << out;
  EXPECT_EQ(c.Dectl({"--token", "wrong", "dag", "list"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "unknown or revoked or expired token")) << out;

  const std::string op = CreateToken(c, admin, "ops", "operator");
  const std::string viewer = CreateToken(c, admin, "look", "viewer");
  const std::string worker = CreateToken(c, admin, "w", "worker");
  ASSERT_FALSE(op.empty() || viewer.empty() || worker.empty());
  ASSERT_EQ(c.Dectl({"--token", admin, "token", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "look") && absl::StrContains(out, "viewer")) << out;
  EXPECT_FALSE(absl::StrContains(out, viewer)) << "token list must never show a token";

  // Worker session: a worker token connects; a viewer token is refused.
  Process* w1 = StartWorkerWith(c, "w1", {"--token", worker}, &workers);
  ASSERT_TRUE(WaitWorkerConnected(c, admin, "w1")) << w1->Log() << c.Logs();
  Process* w2 = StartWorkerWith(c, "w2", {"--token", viewer}, &workers);
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(w2->Log(), "refused the worker"); }))
      << w2->Log();
  EXPECT_TRUE(absl::StrContains(w2->Log(), "Session needs role worker; token 'look' has viewer"))
      << w2->Log();

  const std::string yaml = c.data("audited.yaml");
  WriteFile(yaml, R"(dag: audited
schedule: "@daily"
start_date: 2024-01-01
catchup: false
params: { who: nobody }
tasks:
  - { id: a, type: shell, with: { command: "echo hi {{ params.who }}" } }
)");
  // Read group: viewer yes, worker no.
  EXPECT_EQ(c.Dectl({"--token", viewer, "dag", "list"}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"--token", worker, "dag", "list"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "ListDags needs role viewer; token 'w' has worker")) << out;
  // Operate group: operator yes, viewer no.
  EXPECT_EQ(c.Dectl({"--token", viewer, "dag", "submit", yaml}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "permission denied: SubmitDag needs role operator; token "
                                     "'look' has viewer")) << out;
  ASSERT_EQ(c.Dectl({"--token", op, "dag", "submit", yaml}, &out), 0) << out;
  ASSERT_EQ(c.Dectl({"--token", op, "pause", "audited"}, &out), 0) << out;
  ASSERT_EQ(c.Dectl({"--token", op, "unpause", "audited"}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"--token", viewer, "trigger", "audited"}, &out), 1);
  ASSERT_EQ(c.Dectl({"--token", op, "-o", "json", "trigger", "audited", "--conf", "who=alice",
                     "--wait"}, &out), 0) << out << c.Logs();
  const std::string run = JsonString(out, "run_id");
  ASSERT_FALSE(run.empty()) << out;
  ASSERT_EQ(c.Dectl({"--token", op, "clear", run}, &out), 0) << out;
  // Cancel may find the cleared run done already: either way it is audited with its outcome.
  c.Dectl({"--token", op, "runs", "cancel", run}, &out);
  ASSERT_EQ(c.Dectl({"--token", op, "-o", "json", "backfill", "audited", "--from", "2024-01-01",
                     "--to", "2024-01-02"}, &out), 0) << out;
  const std::string backfill = JsonString(out, "backfill_id");
  ASSERT_FALSE(backfill.empty()) << out;
  // Cancel may find the backfill finished already: either way it is audited with its outcome.
  c.Dectl({"--token", op, "backfill", "cancel", backfill}, &out);
  // Admin group: operator no, admin yes.
  EXPECT_EQ(c.Dectl({"--token", op, "dag", "delete", "--yes", "audited"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "DeleteDag needs role admin; token 'ops' has operator"))
      << out;
  EXPECT_EQ(c.Dectl({"--token", op, "token", "list"}, &out), 1);
  ASSERT_EQ(c.Dectl({"--token", admin, "dag", "delete", "--yes", "audited"}, &out), 0) << out;

  // Revoked: refused on the next call.
  ASSERT_EQ(c.Dectl({"--token", admin, "token", "revoke", "look"}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"--token", viewer, "dag", "list"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "unknown or revoked or expired token")) << out;
  // Expired: refused once its time is up (no restart, no cache to wait out).
  const std::string brief = CreateToken(c, admin, "brief", "viewer", "2s");
  ASSERT_FALSE(brief.empty());
  EXPECT_TRUE(WaitUntil([&] {
    return c.Dectl({"--token", brief, "dag", "list"}, &out) == 1 &&
           absl::StrContains(out, "unknown or revoked or expired token");
  })) << out;

  // The audit trail: every mutating call with its author, peer, arguments and outcome.
  ASSERT_EQ(c.Dectl({"--token", admin, "-o", "json", "audit", "--limit", "100"}, &out), 0)
      << out;
  for (const char* method :
       {"CreateToken", "SubmitDag", "SetDagPaused", "Trigger", "ClearRun", "CancelRun",
        "CreateBackfill", "CancelBackfill", "DeleteDag", "RevokeToken"}) {
    EXPECT_TRUE(absl::StrContains(out, absl::StrCat("\"method\": \"", method, "\""))) << method
                                                                                     << out;
  }
  EXPECT_TRUE(absl::StrContains(out, "\"who\": \"ops\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"who\": \"admin\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "ipv4:127.0.0.1:")) << out;
  EXPECT_TRUE(absl::StrContains(out, R"(\"who\":\"alice\")")) << "trigger's conf: " << out;
  EXPECT_FALSE(absl::StrContains(out, "\"outcome\": \"pending\"")) << out;
  EXPECT_FALSE(absl::StrContains(out, op)) << "no token value in the audit trail";
  // Denied calls never reached a handler: nothing changed, nothing recorded as done.
  ASSERT_EQ(c.Dectl({"--token", admin, "audit", "--dag", "audited"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "Trigger")) << out;
  EXPECT_FALSE(absl::StrContains(out, "CreateToken")) << out;
  EXPECT_EQ(c.Dectl({"--token", op, "audit"}, &out), 1) << "the audit trail is admin-only";
}

TEST(AuthE2E, MetricsNeedABearerTokenOnceTokensExist) {
  TempDir keys;
  WriteFile(keys / "admin.token", "metrics-admin\n");
  Cluster c({"--init-admin-token", keys / "admin.token"});
  c.StartScheduler();
  const std::string viewer = CreateToken(c, "metrics-admin", "prom", "viewer");
  const std::string addr = c.http_address();
  const size_t colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  auto anon = http.Get("/metrics");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  EXPECT_TRUE(absl::StrContains(anon->body, "no token")) << anon->body;
  auto bad = http.Get("/metrics", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  auto ok = http.Get("/metrics", {{"Authorization", "Bearer " + viewer}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(absl::StrContains(ok->body, "de_workers_connected")) << ok->body;
  auto post = http.Post("/metrics", {{"Authorization", "Bearer " + viewer}}, "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403);
}

// The page's actions (POST /api/v1/...) are recorded like their gRPC twins: same method names,
// the token's name, the HTTP client as peer, arguments and outcome; refused ones are not.
TEST(AuthE2E, HttpActionsAreAuditedLikeGrpc) {
  TempDir keys;
  WriteFile(keys / "admin.token", "http-audit-admin\n");
  Cluster c({"--init-admin-token", keys / "admin.token"});
  c.StartScheduler();
  const std::string admin = "http-audit-admin";
  const std::string op = CreateToken(c, admin, "pager", "operator");
  const std::string viewer = CreateToken(c, admin, "glance", "viewer");
  ASSERT_FALSE(op.empty() || viewer.empty());
  const std::string yaml = c.data("web_audited.yaml");
  WriteFile(yaml, R"(dag: web_audited
schedule: null
params: { who: nobody }
tasks:
  - { id: a, type: shell, with: { command: "echo hi {{ params.who }}" } }
)");
  std::string out;
  ASSERT_EQ(c.Dectl({"--token", op, "dag", "submit", yaml}, &out), 0) << out;

  const std::string addr = c.http_address();
  const size_t colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  auto post = [&](const std::string& token, const std::string& path, const std::string& body) {
    return http.Post(path, {{"Authorization", "Bearer " + token}, {"X-De-Csrf", "1"}}, body,
                     "application/json");
  };
  auto trigger = post(op, "/api/v1/dags/web_audited/trigger", R"({"conf": {"who": "web"}})");
  ASSERT_TRUE(trigger);
  ASSERT_EQ(trigger->status, 200) << trigger->body;
  auto pause = post(op, "/api/v1/dags/web_audited/pause", "{}");
  ASSERT_TRUE(pause);
  ASSERT_EQ(pause->status, 200) << pause->body;
  auto missing = post(op, "/api/v1/runs/no_such_run/cancel", "{}");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  auto denied = post(viewer, "/api/v1/dags/web_audited/unpause", "{}");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_TRUE(absl::StrContains(c.Logs(), "denied POST /api/v1/dags/web_audited/unpause"))
      << c.Logs();

  ASSERT_EQ(c.Dectl({"--token", admin, "-o", "json", "audit", "--dag", "web_audited"}, &out), 0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "\"method\": \"Trigger\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"method\": \"SetDagPaused\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"who\": \"pager\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"role\": \"operator\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "ipv4:127.0.0.1:")) << out;
  EXPECT_TRUE(absl::StrContains(out, R"(\"who\":\"web\")")) << "trigger's conf: " << out;
  EXPECT_TRUE(absl::StrContains(out, R"(\"paused\":true)")) << out;
  EXPECT_FALSE(absl::StrContains(out, "\"outcome\": \"pending\"")) << out;
  EXPECT_FALSE(absl::StrContains(out, "glance")) << "a refused action is not audited: " << out;
  EXPECT_FALSE(absl::StrContains(out, op)) << "no token value in the audit trail";
  ASSERT_EQ(c.Dectl({"--token", admin, "-o", "json", "audit"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"method\": \"CancelRun\"")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"outcome\": \"NOT_FOUND\"")) << out;
}

TEST(AuthE2E, ListenPolicyRefusals) {
  TempDir home, keys;
  WriteFile(keys / "admin.token", "policy-admin");
  auto run = [&](std::vector<std::string> extra, std::string* log) {
    std::vector<std::string> argv = {DE_SCHEDULER_BIN, "--home", home.path(), "--http", ""};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Process p(argv, home / "policy.log");
    if (!WaitUntil([&] { return !p.Running() || FileExists(home / "scheduler.addr"); })) {
      return -1;
    }
    if (p.Running()) p.Kill(SIGTERM);
    int rc = p.Wait();
    *log = p.Log();
    return rc;
  };
  std::string log;
  EXPECT_EQ(run({"--listen", "0.0.0.0:0"}, &log), 1) << log;
  EXPECT_TRUE(absl::StrContains(log, "without tokens the scheduler only listens on loopback"))
      << log;
  EXPECT_EQ(run({"--listen", "0.0.0.0:0", "--init-admin-token", keys / "admin.token"}, &log), 1)
      << log;
  EXPECT_TRUE(absl::StrContains(log, "without TLS")) << log;
  EXPECT_TRUE(absl::StrContains(log, "--insecure-allow-plaintext")) << log;
  // Explicitly allowed: it starts (and then every call needs a token).
  EXPECT_EQ(run({"--listen", "0.0.0.0:0", "--insecure-allow-plaintext"}, &log), 0) << log;
  EXPECT_TRUE(absl::StrContains(log, "listening on 0.0.0.0:")) << log;
}

}  // namespace
}  // namespace de::testing
