// Helpers of the auth integration tests: tokens made through dectl, workers with extra flags,
// JSON fields from dectl -o json, and a test CA with openssl. Header-only.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/harness.h"

namespace de::testing {

// The string value of the first `"key": "value"` in `json`, or empty.
inline std::string JsonString(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\": \"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

// `dectl token create NAME --role ROLE` with the admin token; the token (the last line).
inline std::string CreateToken(Cluster& c, const std::string& admin, const std::string& name,
                               const std::string& role, const std::string& expires = "",
                               const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = extra;
  for (const std::string& a : {std::string("--token"), admin, std::string("token"),
                               std::string("create"), name, std::string("--role"), role}) {
    args.push_back(a);
  }
  if (!expires.empty()) {
    args.push_back("--expires");
    args.push_back(expires);
  }
  std::string out;
  if (c.Dectl(args, &out) != 0) {
    ADD_FAILURE() << "token create " << name << ": " << out;
    return "";
  }
  std::vector<std::string> lines = absl::StrSplit(absl::StripTrailingAsciiWhitespace(out), '\n');
  return lines.back();
}

// A worker with `extra` flags (token, TLS), owned by `keep` (declare it after the Cluster so the
// worker stops first); nothing waits for it to connect.
inline Process* StartWorkerWith(Cluster& c, const std::string& name,
                                const std::vector<std::string>& extra,
                                std::vector<std::unique_ptr<Process>>* keep) {
  std::vector<std::string> argv = {DE_WORKER_BIN, "--scheduler", c.address(), "--name", name,
                                   "--slots", "2", "--data-root", c.data("")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto w = std::make_unique<Process>(argv, c.home() + "/worker-" + name + ".log");
  Process* raw = w.get();
  keep->push_back(std::move(w));
  return raw;
}

// Waits until `dectl workers` (with `flags`) lists `name` as connected.
inline bool WaitWorkerConnected(Cluster& c, const std::string& admin, const std::string& name,
                                const std::vector<std::string>& flags = {}) {
  return WaitUntil([&] {
    std::vector<std::string> args = flags;
    for (const std::string& a : {std::string("--token"), admin, std::string("-o"),
                                 std::string("json"), std::string("workers")}) {
      args.push_back(a);
    }
    std::string out;
    if (c.Dectl(args, &out) != 0) return false;
    return out.find("\"name\": \"" + name + "\"") != std::string::npos &&
           out.find("\"connected\"") != std::string::npos;
  });
}

}  // namespace de::testing

namespace de::testing {

// Runs a command; true if it exited 0 (its output goes to `log`).
inline bool RunTool(const std::vector<std::string>& argv, const std::string& log) {
  Process p(argv, log);
  return p.Wait() == 0;
}

// A test CA made with openssl: DIR/NAME.pem and DIR/NAME.key.
inline bool MakeCa(const std::string& dir, const std::string& name) {
  return RunTool({DE_OPENSSL_BIN, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/" + name + ".key",
                  "-out", dir + "/" + name + ".pem", "-days", "2", "-subj", "/CN=" + name},
                 dir + "/openssl-" + name + ".log");
}

// A certificate for 127.0.0.1/localhost signed by CA: DIR/NAME.pem and DIR/NAME.key.
inline bool MakeCert(const std::string& dir, const std::string& ca, const std::string& name) {
  const std::string base = dir + "/" + name;
  WriteFile(base + ".ext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth,clientAuth\n");
  return RunTool({DE_OPENSSL_BIN, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj",
                  "/CN=" + name},
                 base + "-req.log") &&
         RunTool({DE_OPENSSL_BIN, "x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".pem",
                  "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-out", base + ".pem",
                  "-days", "2", "-extfile", base + ".ext"},
                 base + "-sign.log");
}

}  // namespace de::testing
