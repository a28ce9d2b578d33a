#include "worker/agent.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/version.h"
#include "spdlog/spdlog.h"
#include "worker/probe.h"
#include "worker/shell_task.h"
#include "worker/task_cli.h"
#include "worker/tasks/task.h"
#include "yaml-cpp/yaml.h"

namespace de::worker {
namespace {

constexpr int64_t kMaxBufferedLogBytes = 64 << 20;

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

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}

Agent::~Agent() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, at] : attempts_) {
      if (at->child) at->child->Cancel();
      if (at->thread.joinable()) threads.push_back(std::move(at->thread));
    }
    for (auto& at : done_) {
      if (at->thread.joinable()) threads.push_back(std::move(at->thread));
    }
  }
  for (auto& t : threads) t.join();
}

void Agent::Stop() {
  absl::MutexLock lock(&mu_);
  stop_level_++;
  if (stop_level_ >= 2 && session_ctx_) session_ctx_->TryCancel();
}

void Agent::Push(v1::WorkerMessage msg) {
  absl::MutexLock lock(&mu_);
  if (msg.has_log()) {
    if (outbox_log_bytes_ > kMaxBufferedLogBytes) return;   // scheduler away for long: drop logs
    outbox_log_bytes_ += static_cast<int64_t>(msg.log().data().size());
  }
  outbox_.push_back(std::move(msg));
}

std::vector<int64_t> Agent::HeldAttempts() {
  std::vector<int64_t> ids;
  for (const auto& [id, at] : attempts_) ids.push_back(id);
  return ids;
}

void Agent::ReapFinished() {
  // A finished attempt's thread has nothing left to do but return (it took no lock after
  // queueing its result), so joining here cannot block for long.
  for (auto& at : done_) {
    if (at->thread.joinable()) at->thread.join();
  }
  done_.clear();
}

void Agent::Run() {
  std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_level_ >= 2) return;
      if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) return;
    }
    absl::Time started = absl::Now();
    bool registered = RunSession();
    {
      absl::MutexLock lock(&mu_);
      if (stop_level_ >= 2) return;
      if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) return;
    }
    if (registered && absl::Now() - started > absl::Seconds(5)) backoff = absl::Milliseconds(100);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    absl::Duration wait = backoff * jitter(rng);
    spdlog::info("scheduler {} unavailable; reconnecting in {}ms", options_.scheduler,
                 absl::ToInt64Milliseconds(wait));
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_level_ >= 2; };
    mu_.AwaitWithTimeout(absl::Condition(&stopped), wait);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool Agent::RunSession() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options_.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.tls_ca_pem;
    ssl.pem_cert_chain = options_.tls_cert_pem;
    ssl.pem_private_key = options_.tls_key_pem;
    creds = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateCustomChannel(options_.scheduler, creds, args);
  auto stub = v1::WorkerService::NewStub(channel);
  grpc::ClientContext ctx;
  if (!options_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.token);
  auto stream = stub->Session(&ctx);

  v1::WorkerMessage reg_msg;
  v1::Register* reg = reg_msg.mutable_register_();
  reg->set_name(options_.name);
  reg->set_slots(options_.slots);
  for (const auto& p : options_.pools) reg->add_pools(p);
  reg->set_version(common::Version());
  {
    absl::MutexLock lock(&mu_);
    for (int64_t id : HeldAttempts()) reg->add_running_attempt_ids(id);
    session_ctx_ = &ctx;
    session_dead_ = false;
  }
  auto clear_ctx = [&] {
    absl::MutexLock lock(&mu_);
    session_ctx_ = nullptr;
  };
  v1::SchedulerMessage first;
  const bool answered = stream->Write(reg_msg) && stream->Read(&first);
  if (!answered || !first.has_ack()) {
    if (answered) ctx.TryCancel();   // a first message that is not an ack (a failed call has ended)
    grpc::Status st = stream->Finish();
    if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      spdlog::error("scheduler {} refused the worker: {}", options_.scheduler, st.error_message());
    } else if (!st.ok()) {
      spdlog::warn("session with scheduler {} failed: {}", options_.scheduler, st.error_message());
    }
    clear_ctx();
    return false;
  }
  spdlog::info("connected to scheduler {} as {} ({} slots)", options_.scheduler, options_.name,
               options_.slots);
  {
    absl::MutexLock lock(&mu_);
    heartbeat_ = absl::Milliseconds(std::max<int64_t>(100, first.ack().heartbeat_interval_ms()));
    for (int64_t id : first.ack().fenced_attempt_ids()) {
      auto it = attempts_.find(id);
      if (it == attempts_.end()) continue;
      spdlog::warn("attempt={} was fenced by the scheduler; stopping it", id);
      it->second->cancel_requested = true;
      if (it->second->child) it->second->child->Cancel();
    }
    // Results of fenced attempts must not be delivered.
    std::set<int64_t> fenced(first.ack().fenced_attempt_ids().begin(),
                             first.ack().fenced_attempt_ids().end());
    std::erase_if(outbox_, [&](const v1::WorkerMessage& m) {
      return (m.has_result() && fenced.count(m.result().attempt_id())) ||
             (m.has_log() && fenced.count(m.log().attempt_id())) || m.has_heartbeat();
    });
  }

  std::thread reader([&] {
    v1::SchedulerMessage m;
    while (stream->Read(&m)) HandleMessage(m);
    absl::MutexLock lock(&mu_);
    session_dead_ = true;
  });

  absl::Time next_heartbeat = absl::Now();
  while (true) {
    v1::WorkerMessage out;
    bool have = false;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return session_dead_ || stop_level_ >= 2 || !outbox_.empty() ||
               (stop_level_ == 1 && attempts_.empty());
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_heartbeat);
      ReapFinished();
      if (session_dead_ || stop_level_ >= 2) break;
      if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) break;
      if (absl::Now() >= next_heartbeat) {
        v1::WorkerMessage hb;
        for (int64_t id : HeldAttempts()) hb.mutable_heartbeat()->add_running_attempt_ids(id);
        outbox_.push_front(std::move(hb));
        next_heartbeat = absl::Now() + heartbeat_;
      }
      if (!outbox_.empty()) {
        out = std::move(outbox_.front());
        outbox_.pop_front();
        have = true;
        if (out.has_log()) outbox_log_bytes_ -= static_cast<int64_t>(out.log().data().size());
      }
    }
    if (!have) continue;
    if (!stream->Write(out)) {
      absl::MutexLock lock(&mu_);
      if (!out.has_heartbeat()) outbox_.push_front(std::move(out));   // deliver after reconnect
      break;
    }
    if (out.has_result()) {
      absl::MutexLock lock(&mu_);
      auto it = attempts_.find(out.result().attempt_id());
      if (it != attempts_.end() && it->second->finished) {
        done_.push_back(std::move(it->second));
        attempts_.erase(it);
      }
    }
  }
  ctx.TryCancel();
  reader.join();
  (void)stream->Finish();
  clear_ctx();
  return true;
}

void Agent::HandleMessage(const v1::SchedulerMessage& msg) {
  if (msg.has_assign()) {
    StartAttempt(msg.assign());
  } else if (msg.has_probe()) {
    // A look at the data root, answered at once: no slot, no child (worker/probe.h).
    v1::WorkerMessage m;
    *m.mutable_probe_result() = RunProbe(msg.probe(), options_.data_root, absl::Now());
    Push(std::move(m));
  } else if (msg.has_cancel()) {
    absl::MutexLock lock(&mu_);
    auto it = attempts_.find(msg.cancel().attempt_id());
    if (it == attempts_.end()) return;
    spdlog::info("attempt={} cancelled by the scheduler ({})", msg.cancel().attempt_id(),
                 msg.cancel().reason());
    it->second->cancel_requested = true;
    if (it->second->child) it->second->child->Cancel();
  }
}

void Agent::StartAttempt(const v1::Assignment& a) {
  absl::MutexLock lock(&mu_);
  if (attempts_.count(a.attempt_id())) return;   // duplicate delivery
  auto at = std::make_unique<Attempt>();
  at->assignment = a;
  at->mask = LogMask(std::vector<std::string>(a.mask().begin(), a.mask().end()));
  Attempt* raw = at.get();
  attempts_[a.attempt_id()] = std::move(at);
  spdlog::info("dag={} run={} task={} attempt={} try={} starting ({})", a.dag_id(), a.run_id(),
               a.task_id(), a.attempt_id(), a.try_number(), a.type());
  raw->thread = std::thread([this, raw] { RunAttempt(raw); });
}

void Agent::RunAttempt(Attempt* at) {
  v1::TaskResult result = Execute(at);
  // The log's held-back tail goes out before the result, which counts it in log_bytes.
  SendLog(at, at->mask.Flush());
  result.set_error(at->mask.MaskAll(result.error()));
  result.set_summary(at->mask.MaskAll(result.summary()));
  result.set_attempt_id(at->assignment.attempt_id());
  result.set_log_bytes(at->log_offset);
  spdlog::info("dag={} run={} task={} attempt={} {}{}", at->assignment.dag_id(),
               at->assignment.run_id(), at->assignment.task_id(), at->assignment.attempt_id(),
               result.success() ? "succeeded" : "failed",
               result.error().empty() ? "" : ": " + result.error());
  Finish(at->assignment.attempt_id(), std::move(result));
}

void Agent::Finish(int64_t attempt_id, v1::TaskResult result) {
  absl::MutexLock lock(&mu_);
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;
  it->second->finished = true;
  v1::WorkerMessage m;
  *m.mutable_result() = std::move(result);
  outbox_.push_back(std::move(m));
}

void Agent::SendLog(Attempt* at, std::string data) {
  if (data.empty()) return;
  v1::WorkerMessage m;
  m.mutable_log()->set_attempt_id(at->assignment.attempt_id());
  m.mutable_log()->set_offset(at->log_offset);
  at->log_offset += static_cast<int64_t>(data.size());
  m.mutable_log()->set_data(std::move(data));
  Push(std::move(m));
}

v1::TaskResult Agent::Execute(Attempt* at) {
  const v1::Assignment& a = at->assignment;
  v1::TaskResult r;
  auto fail = [&](const std::string& error) {
    const std::string masked = at->mask.MaskAll(error);
    r.set_success(false);
    r.set_exit_code(-1);
    r.set_error(masked);
    // The error also goes to the task log, where an operator looks first.
    SendLog(at, at->mask.Flush());
    SendLog(at, absl::StrCat("[de-worker] ", masked, "\n"));
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
  // Runs on this thread (inside Wait()); offsets count the masked bytes actually sent.
  auto on_output = [this, at](std::string_view chunk) { SendLog(at, at->mask.Feed(chunk)); };
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
