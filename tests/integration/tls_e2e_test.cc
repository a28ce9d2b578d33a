// End to end over TLS with a test CA made by openssl: dectl and a worker (with a client
// certificate) work; a worker trusting another CA, or without a client certificate, is refused;
// HTTPS /metrics; SIGHUP loads a new certificate (a client trusting only the new CA connects)
// while a running task finishes over the worker's existing connection.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <string>

#include "absl/strings/match.h"
#include "tests/integration/auth_e2e_util.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(TlsE2E, TlsClientCertsAndReloadOnSighup) {
  TempDir pki;
  ASSERT_TRUE(MakeCa(pki.path(), "ca1") && MakeCa(pki.path(), "ca2"));
  ASSERT_TRUE(MakeCert(pki.path(), "ca1", "server1") && MakeCert(pki.path(), "ca2", "server2") &&
              MakeCert(pki.path(), "ca1", "worker"));
  // The scheduler reads these paths; the reload swaps their content.
  WriteFile(pki / "tls.pem", ReadFile(pki / "server1.pem"));
  WriteFile(pki / "tls.key", ReadFile(pki / "server1.key"));
  WriteFile(pki / "admin.token", "tls-admin");
  Cluster c({"--lease", "3s", "--heartbeat", "200ms", "--init-admin-token", pki / "admin.token",
             "--tls-cert", pki / "tls.pem", "--tls-key", pki / "tls.key", "--tls-client-ca",
             pki / "ca1.pem"});
  c.StartScheduler();
  std::vector<std::unique_ptr<Process>> workers;
  const std::string admin = "tls-admin";
  const std::vector<std::string> ca1 = {"--tls-ca", pki / "ca1.pem"};
  const std::vector<std::string> ca2 = {"--tls-ca", pki / "ca2.pem"};
  std::string out;

  auto dectl = [&](const std::vector<std::string>& tls, std::vector<std::string> args) {
    args.insert(args.begin(), tls.begin(), tls.end());
    return c.Dectl(args, &out);
  };
  ASSERT_EQ(dectl(ca1, {"--token", admin, "dag", "list"}), 0) << out << c.Logs();
  EXPECT_EQ(dectl({}, {"--token", admin, "dag", "list"}), 3) << "plaintext to a TLS port: " << out;
  EXPECT_EQ(dectl(ca2, {"--token", admin, "dag", "list"}), 3) << "untrusted server: " << out;
  const std::string worker_token = CreateToken(c, admin, "w", "worker", "", ca1);
  ASSERT_FALSE(worker_token.empty());

  // A worker with the right CA and a client certificate connects.
  StartWorkerWith(c, "good",
                  {"--token", worker_token, "--tls-ca", pki / "ca1.pem", "--tls-cert",
                   pki / "worker.pem", "--tls-key", pki / "worker.key"},
                  &workers);
  ASSERT_TRUE(WaitWorkerConnected(c, admin, "good", ca1)) << c.Logs();
  // A worker trusting another CA is refused by its own TLS check.
  Process* wrong = StartWorkerWith(
      c, "wrongca", {"--token", worker_token, "--tls-ca", pki / "ca2.pem"}, &workers);
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(wrong->Log(), "failed"); }))
      << wrong->Log();
  // A worker without a client certificate is refused by the scheduler.
  Process* nocert = StartWorkerWith(
      c, "nocert", {"--token", worker_token, "--tls-ca", pki / "ca1.pem"}, &workers);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(nocert->Log(), "refused the worker: the worker session needs a "
                                            "client certificate");
  })) << nocert->Log();
  ASSERT_EQ(dectl(ca1, {"--token", admin, "-o", "json", "workers"}), 0) << out;
  EXPECT_FALSE(absl::StrContains(out, "wrongca")) << out;
  EXPECT_FALSE(absl::StrContains(out, "nocert")) << out;

  // HTTPS with the same certificate.
  {
    const std::string addr = c.http_address();
    const size_t colon = addr.rfind(':');
    httplib::SSLClient https(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
    https.set_ca_cert_path((pki / "ca1.pem").c_str());
    https.enable_server_certificate_verification(true);
    auto res = https.Get("/metrics", {{"Authorization", "Bearer " + admin}});
    ASSERT_TRUE(res) << "HTTPS failed: " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(absl::StrContains(res->body, "de_workers_connected")) << res->body;
  }

  // A task that runs until released.
  const std::string started = c.data("started"), release = c.data("release");
  WriteFile(c.data("hold.yaml"), "dag: hold\ntasks:\n  - id: wait\n    type: shell\n    with: "
                                 "{ command: \"touch " + started + "; while [ ! -f " + release +
                                 " ]; do sleep 0.05; done\" }\n");
  ASSERT_EQ(dectl(ca1, {"--token", admin, "dag", "submit", c.data("hold.yaml")}), 0) << out;
  ASSERT_EQ(dectl(ca1, {"--token", admin, "-o", "json", "trigger", "hold"}), 0) << out;
  const std::string run = JsonString(out, "run_id");
  ASSERT_FALSE(run.empty()) << out;
  ASSERT_TRUE(WaitUntil([&] { return FileExists(started); })) << c.Logs();

  // New certificate from another CA, then SIGHUP: new connections get it.
  WriteFile(pki / "tls.pem", ReadFile(pki / "server2.pem"));
  WriteFile(pki / "tls.key", ReadFile(pki / "server2.key"));
  c.SignalScheduler(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return dectl(ca2, {"--token", admin, "dag", "list"}) == 0; }))
      << out << c.Logs();
  EXPECT_EQ(dectl(ca1, {"--token", admin, "dag", "list"}), 3) << out;
  // The running task finishes and reports over the worker's open session.
  WriteFile(release, "");
  ASSERT_TRUE(WaitUntil([&] {
    return dectl(ca2, {"--token", admin, "-o", "json", "runs", "show", run}) == 0 &&
           absl::StrContains(out, "\"state\": \"success\"");
  })) << out << c.Logs();
}

// TLS with a server certificate only (no --tls-client-ca, the common setup): dectl and a worker
// without client certificates connect and a task runs. gRPC aborted the scheduler on the first
// handshake here when the fetched config carried no root certificates.
TEST(TlsE2E, ServerCertificateOnly) {
  TempDir pki;
  ASSERT_TRUE(MakeCa(pki.path(), "ca1") && MakeCert(pki.path(), "ca1", "server1"));
  WriteFile(pki / "admin.token", "tls-admin");
  Cluster c({"--lease", "3s", "--heartbeat", "200ms", "--init-admin-token", pki / "admin.token",
             "--tls-cert", pki / "server1.pem", "--tls-key", pki / "server1.key"});
  c.StartScheduler();
  const std::string admin = "tls-admin";
  const std::vector<std::string> ca1 = {"--tls-ca", pki / "ca1.pem"};
  std::string out;
  auto dectl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), ca1.begin(), ca1.end());
    return c.Dectl(args, &out);
  };
  ASSERT_EQ(dectl({"--token", admin, "dag", "list"}), 0) << out << c.Logs();
  const std::string worker_token = CreateToken(c, admin, "w", "worker", "", ca1);
  ASSERT_FALSE(worker_token.empty());
  std::vector<std::unique_ptr<Process>> workers;
  StartWorkerWith(c, "plain", {"--token", worker_token, "--tls-ca", pki / "ca1.pem"}, &workers);
  ASSERT_TRUE(WaitWorkerConnected(c, admin, "plain", ca1)) << c.Logs();
  WriteFile(c.data("one.yaml"), "dag: one\ntasks:\n  - id: t\n    type: shell\n    with: "
                                "{ command: \"true\" }\n");
  ASSERT_EQ(dectl({"--token", admin, "dag", "submit", c.data("one.yaml")}), 0) << out;
  ASSERT_EQ(dectl({"--token", admin, "-o", "json", "trigger", "one"}), 0) << out;
  const std::string run = JsonString(out, "run_id");
  ASSERT_TRUE(WaitUntil([&] {
    return dectl({"--token", admin, "-o", "json", "runs", "show", run}) == 0 &&
           absl::StrContains(out, "\"state\": \"success\"");
  })) << out << c.Logs();
}

}  // namespace
}  // namespace de::testing
