// How the store's rows decode from (and encode to) SQLite statements, shared by the files that
// implement Store (store.cc, store_runs.cc, store_tasks.cc, store_backfills.cc). Not part of
// the store's interface: callers use Store. A stored JSON value that does not decode is DataLoss
// naming the row, never an empty value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/status.h"
#include "server/store/sqlite.h"
#include "server/store/store.h"

namespace de::store::internal {

// A row reader returns T, or StatusOr<T> when a stored value can fail to decode.
template <typename T>
struct RowOf {
  using type = T;
  static absl::Status Check(const T&) { return absl::OkStatus(); }
  static T&& Get(T& v) { return std::move(v); }
};
template <typename T>
struct RowOf<absl::StatusOr<T>> {
  using type = T;
  static absl::Status Check(const absl::StatusOr<T>& v) { return v.status(); }
  static T&& Get(absl::StatusOr<T>& v) { return std::move(*v); }
};
template <typename Read>
using RowType = RowOf<decltype(std::declval<Read>()(std::declval<const Stmt&>()))>;

// Steps `s` to the end, reading each row with `read`; the first row that fails to decode fails
// the whole read.
template <typename Read>
auto CollectRows(Stmt& s, Read read) -> absl::StatusOr<std::vector<typename RowType<Read>::type>> {
  std::vector<typename RowType<Read>::type> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    auto v = read(s);
    if (absl::Status st = RowType<Read>::Check(v); !st.ok()) {
      s.Reset();
      return st;
    }
    out.push_back(RowType<Read>::Get(v));
  }
  return out;
}

// Reads the first row of `s`, if any, and resets the statement so it holds no read snapshot.
template <typename Read>
auto FirstRow(Stmt& s, Read read)
    -> absl::StatusOr<std::optional<typename RowType<Read>::type>> {
  ResetOnExit reset(s);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::nullopt;
  auto v = read(s);
  DE_RETURN_IF_ERROR(RowType<Read>::Check(v));
  return RowType<Read>::Get(v);
}

// Maps are stored as JSON objects (via the proto maps of the API types); `what` names the row
// in the error ("run R", "backfill B", "task T of run R").
std::string ConfToJson(const std::map<std::string, std::string>& conf);
absl::StatusOr<std::map<std::string, std::string>> ConfFromJson(const std::string& json,
                                                                const std::string& what);
std::string CountersToJson(const std::map<std::string, int64_t>& counters);
absl::StatusOr<std::map<std::string, int64_t>> CountersFromJson(const std::string& json,
                                                                const std::string& what);

// Column lists of SELECTs whose rows the matching Read* decodes.
inline constexpr char kRunCols[] =
    "run_id, dag_id, dag_version, run_type, state, logical_date, interval_start, interval_end, "
    "conf, reason, backfill_id, created_at, started_at, ended_at, deadline_at, "
    "deadline_missed_at";
inline constexpr char kTaskInstanceCols[] =
    "run_id, task_id, state, try_number, max_tries, lost_count, next_retry_at, queued_at, "
    "started_at, ended_at, worker, error, counters, deadline_at, deadline_missed_at, map_index, "
    "map_item";
inline constexpr char kAttemptCols[] =
    "attempt_id, run_id, task_id, try_number, worker, state, started_at, ended_at, exit_code, "
    "error";
inline constexpr char kBackfillCols[] =
    "backfill_id, dag_id, dag_version, from_date, to_date, rerun, reverse, max_active, conf, "
    "state, total, cursor, kept, created_at, ended_at";
inline constexpr char kWorkerCols[] = "name, slots, pools, version, first_seen, last_seen, state";
inline constexpr char kDagCols[] = "dag_id, latest_version, paused, created_at, updated_at";

absl::StatusOr<RunRow> ReadRun(const Stmt& s);
absl::StatusOr<TaskInstanceRow> ReadTaskInstance(const Stmt& s);
AttemptRow ReadAttempt(const Stmt& s);
absl::StatusOr<BackfillRow> ReadBackfill(const Stmt& s);
WorkerRow ReadWorker(const Stmt& s);
DagRow ReadDag(const Stmt& s);

}  // namespace de::store::internal
