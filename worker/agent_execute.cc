// Agent::Execute: runs one attempt's task (noop inline, shell and built-in tasks as a child under
// the guard) and turns how it ended into a TaskResult.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "worker/agent.h"
#include "worker/shell_task.h"
#include "worker/task_cli.h"
#include "worker/tasks/task.h"
#include "yaml-cpp/yaml.h"

namespace de::worker {
namespace {

// Reads the JSON result a built-in task child wrote (JSON is YAML, so yaml-cpp parses it).
void ReadResultFile(const std::string& path, v1::TaskResult* r) {
  std::ifstream in(path);
  std::string json(std::istreambuf_iterator<char>(in), {});
  r->set_summary(json);
  try {
    YAML::Node root = YAML::Load(json);
    if (root["counters"] && root["counters"].IsMap()) {
      for (const auto& kv : root["counters"]) {
        (*r->mutable_counters())[kv.first.as<std::string>()] = kv.second.as<int64_t>();
      }
    }
  } catch (const std::exception& e) {
    spdlog::warn("cannot read task result {}: {}", path, e.what());
  }
}

// A built-in task that failed wrote {"ok":false,"error":...,"retryable":...}: its own message
// replaces "exit code 1", and a non-retryable failure is marked so.
void ReadErrorResultFile(const std::string& path, v1::TaskResult* r) {
  std::ifstream in(path);
  if (!in) return;
  std::string json(std::istreambuf_iterator<char>(in), {});
  try {
    YAML::Node root = YAML::Load(json);
    if (!root.IsMap()) return;
    if (root["error"] && root["error"].IsScalar() && !root["error"].Scalar().empty()) {
      r->set_error(root["error"].Scalar());
    }
    if (root["retryable"] && root["retryable"].IsScalar() && root["retryable"].Scalar() == "false") {
      r->set_non_retryable(true);
    }
  } catch (const std::exception& e) {
    spdlog::warn("cannot read task result {}: {}", path, e.what());
  }
}

}  // namespace

v1::TaskResult Agent::Execute(Attempt* at) {
  const v1::Assignment& a = at->assignment;
  v1::TaskResult r;
  auto fail = [&](const std::string& error) {
    r.set_success(false);
    r.set_exit_code(-1);
    r.set_error(error);   // masked by RunAttempt
    // The error also goes to the task log (masked there), where an operator looks first.
    // "[worker]", not a program's name: `dectl dag test` runs this worker in-process.
    SendLog(at, absl::StrCat("[worker] ", error, "\n"));
    return r;
  };
  if (a.type() == "noop") {
    r.set_success(true);
    return r;
  }
  YAML::Node with;
  try {
    with = a.params_yaml().empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(a.params_yaml());
  } catch (const std::exception& e) {
    return fail(absl::StrCat("cannot parse task parameters: ", e.what()));
  }
  ProcessSpec spec;
  std::string result_file;
  if (a.type() == "shell") {
    auto s = ShellTaskSpec(with, options_.data_root);
    if (!s.ok()) {
      r.set_non_retryable(!IsRetryableTaskError(s.status()));  // a bad `with:` stays bad
      return fail(std::string(s.status().message()));
    }
    spec = std::move(*s);
    if (spec.cwd.empty()) spec.cwd = options_.data_root;
  } else if (tasks::FindBuiltinTask(a.type()) != nullptr) {
    std::string base = absl::StrCat(options_.work_dir, "/attempt-", a.attempt_id());
    std::string params_file = base + ".params.yaml";
    result_file = base + ".result.json";
    {
      std::ofstream out(params_file);
      out << a.params_yaml();
      if (!out) return fail(absl::StrCat("cannot write ", params_file));
    }
    spec.argv = {options_.self_exe, "task",        a.type(),     "--params-file",
                 params_file,       "--result-file", result_file, "--data-root",
                 options_.data_root};
  } else {
    return fail(absl::StrCat("this worker does not know task type '", a.type(), "'"));
  }
  for (const auto& [k, v] : a.env()) spec.env.emplace(k, v);
  // Under the guard, the task's process group dies with this worker (see worker/guard.h).
  std::vector<std::string> argv = {options_.self_exe, "__guard", std::to_string(getpid()), "--"};
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  spec.argv = std::move(argv);
  if (a.timeout_ms() > 0) spec.timeout = absl::Milliseconds(a.timeout_ms());

  const int64_t attempt_id = a.attempt_id();
  // Runs on this thread (inside Wait()).
  auto on_output = [this, at](std::string_view chunk) { SendLog(at, chunk); };
  auto child = ChildProcess::Start(spec, on_output);
  if (!child.ok()) return fail(std::string(child.status().message()));
  ChildProcess* proc = child->get();
  {
    absl::MutexLock lock(&mu_);
    at->child = std::move(*child);
    if (at->cancel_requested) proc->Cancel();
  }
  v1::WorkerMessage started;
  started.mutable_started()->set_attempt_id(attempt_id);
  started.mutable_started()->set_pid(proc->pid());
  Push(std::move(started));
  ProcessResult pr = proc->Wait();
  r.set_success(pr.ok());
  r.set_exit_code(pr.exit_code);
  r.set_timed_out(pr.timed_out);
  r.set_cancelled(pr.cancelled);
  r.set_error(pr.error);
  if (!result_file.empty()) {
    if (pr.ok()) {
      ReadResultFile(result_file, &r);
    } else if (!pr.timed_out && !pr.cancelled && pr.exit_code == 1) {
      ReadErrorResultFile(result_file, &r);
    }
    std::error_code ec;
    std::filesystem::remove(result_file, ec);
    std::filesystem::remove(absl::StrCat(options_.work_dir, "/attempt-", attempt_id, ".params.yaml"),
                            ec);
  }
  return r;
}

}  // namespace de::worker
