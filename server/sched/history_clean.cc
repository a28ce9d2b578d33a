// Scheduler::CleanHistory (dectl db clean): deletes finished runs older than a cutoff with their
// task instances, attempts, alert deliveries (store_clean.cc) and log folders (LOGS/RUN, --logs).
// The candidates are listed on the read connection; each batch of kCleanBatchRuns runs is one
// write transaction under the scheduling lock, which is released between batches, so that
// scheduling goes on while years of history are deleted.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::ToMillis;

struct LogUsage {
  int64_t files = 0;
  int64_t bytes = 0;
};

// The files under LOGS/RUN (--logs) and their size (nothing when the folder does not exist).
LogUsage RunLogUsage(const std::string& dir) {
  LogUsage u;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto size = it->file_size(ec);
    if (ec) continue;
    ++u.files;
    u.bytes += static_cast<int64_t>(size);
  }
  return u;
}

void Add(const store::HistoryCounts& c, const LogUsage& logs, v1::CleanHistoryResponse* r) {
  r->set_runs(r->runs() + c.runs);
  r->set_task_instances(r->task_instances() + c.task_instances);
  r->set_attempts(r->attempts() + c.attempts);
  r->set_alerts(r->alerts() + c.alerts);
  r->set_log_files(r->log_files() + logs.files);
  r->set_log_bytes(r->log_bytes() + logs.bytes);
}

}  // namespace

absl::StatusOr<v1::CleanHistoryResponse> Scheduler::CleanHistory(
    const v1::CleanHistoryRequest& req) {
  if (req.older_than_ms() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "older_than_ms must be positive (how long ago a run ended), not ", req.older_than_ms()));
  }
  v1::CleanHistoryResponse resp;
  resp.set_dry_run(req.dry_run());
  resp.set_cutoff_ms(ToMillis(clock_->Now()) - req.older_than_ms());
  std::vector<std::string> candidates;
  {
    absl::MutexLock lock(&read_mu_);
    DE_ASSIGN_OR_RETURN(store::Store * reader, ReadStore());
    if (!req.dag_id().empty()) {
      DE_ASSIGN_OR_RETURN(auto dag, reader->GetDag(req.dag_id()));
      if (!dag) return absl::NotFoundError(absl::StrCat("no DAG named '", req.dag_id(), "'"));
    }
    DE_ASSIGN_OR_RETURN(candidates, reader->ListCleanableRuns(resp.cutoff_ms(), req.dag_id()));
  }
  const std::string logs = absl::StrCat(options_.logs_dir, "/");
  for (size_t at = 0; at < candidates.size(); at += kCleanBatchRuns) {
    const size_t end = std::min(candidates.size(), at + kCleanBatchRuns);
    std::vector<std::string> batch(candidates.begin() + at, candidates.begin() + end);
    resp.set_batches(resp.batches() + 1);
    LogUsage usage;
    if (req.dry_run()) {
      absl::MutexLock lock(&read_mu_);
      DE_ASSIGN_OR_RETURN(store::Store * reader, ReadStore());
      DE_ASSIGN_OR_RETURN(auto counts, reader->CountRunHistory(batch));
      for (const auto& id : batch) {
        const LogUsage u = RunLogUsage(logs + id);
        usage.files += u.files;
        usage.bytes += u.bytes;
      }
      Add(counts, usage, &resp);
      continue;
    }
    std::vector<std::string> deleted;
    store::HistoryCounts counts;
    {
      absl::MutexLock lock(&mu_);
      // A run still in memory is not finished in the scheduler's eyes (not yet committed out).
      std::vector<std::string> idle;
      for (auto& id : batch) {
        if (!runs_.contains(id)) idle.push_back(std::move(id));
      }
      batch = std::move(idle);
      store::Transaction tx(store_->db());
      DE_RETURN_IF_ERROR(tx.status());
      DE_ASSIGN_OR_RETURN(counts, store_->DeleteRunHistory(batch, resp.cutoff_ms(), &deleted));
      DE_RETURN_IF_ERROR(tx.Commit());
    }
    // The rows are gone; their logs follow (a folder that cannot be removed is logged).
    for (const auto& id : deleted) {
      const LogUsage u = RunLogUsage(logs + id);
      std::error_code ec;
      std::filesystem::remove_all(logs + id, ec);
      if (ec) {
        spdlog::warn("db clean: cannot remove {}{}: {}", logs, id, ec.message());
        continue;
      }
      usage.files += u.files;
      usage.bytes += u.bytes;
    }
    Add(counts, usage, &resp);
  }
  spdlog::info("db clean{}: {} runs{} that ended before {}: {} task instances, {} attempts, {} "
               "alert deliveries, {} log files ({} bytes), {} batches",
               req.dry_run() ? " (dry run)" : "", resp.runs(),
               req.dag_id().empty() ? "" : " of " + req.dag_id(), resp.cutoff_ms(),
               resp.task_instances(), resp.attempts(), resp.alerts(), resp.log_files(),
               resp.log_bytes(), resp.batches());
  return resp;
}

}  // namespace de::sched
