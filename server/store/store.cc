#include "server/store/store.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "de/v1/types.pb.h"
#include "server/store/migrator.h"

namespace de::store {
namespace {

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

// Maps are stored as JSON objects (via the proto maps of the API types).
std::string ConfToJson(const std::map<std::string, std::string>& conf) {
  v1::Run run;
  for (const auto& [k, v] : conf) (*run.mutable_conf())[k] = v;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(run, &out);
  return out;
}
// Corrupt JSON is an error naming `what` (a run's or backfill's conf), never an empty map.
absl::StatusOr<std::map<std::string, std::string>> ConfFromJson(const std::string& json,
                                                                const std::string& what) {
  std::map<std::string, std::string> out;
  if (json.empty()) return out;
  v1::Run run;
  if (auto st = google::protobuf::util::JsonStringToMessage(json, &run); !st.ok()) {
    return absl::DataLossError(absl::StrCat(what, ": stored conf is not valid JSON (",
                                            std::string(st.message()), "): ", json.substr(0, 200)));
  }
  for (const auto& [k, v] : run.conf()) out[k] = v;
  return out;
}
std::string CountersToJson(const std::map<std::string, int64_t>& counters) {
  if (counters.empty()) return "";
  v1::TaskInstance ti;
  for (const auto& [k, v] : counters) (*ti.mutable_counters())[k] = v;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(ti, &out);
  return out;
}
absl::StatusOr<std::map<std::string, int64_t>> CountersFromJson(const std::string& json,
                                                                const std::string& what) {
  std::map<std::string, int64_t> out;
  if (json.empty()) return out;
  v1::TaskInstance ti;
  if (auto st = google::protobuf::util::JsonStringToMessage(json, &ti); !st.ok()) {
    return absl::DataLossError(absl::StrCat(what, ": stored counters are not valid JSON (",
                                            std::string(st.message()), ")"));
  }
  for (const auto& [k, v] : ti.counters()) out[k] = v;
  return out;
}

constexpr char kRunCols[] =
    "run_id, dag_id, dag_version, run_type, state, logical_date, interval_start, interval_end, "
    "conf, reason, backfill_id, created_at, started_at, ended_at, deadline_at, "
    "deadline_missed_at";

absl::StatusOr<RunRow> ReadRun(const Stmt& s) {
  RunRow r;
  r.run_id = s.Text(0);
  r.dag_id = s.Text(1);
  r.dag_version = static_cast<int>(s.Int(2));
  r.run_type = s.Text(3);
  r.state = s.Text(4);
  r.logical_date = s.Int(5);
  r.interval_start = s.Int(6);
  r.interval_end = s.Int(7);
  DE_ASSIGN_OR_RETURN(r.conf, ConfFromJson(s.Text(8), absl::StrCat("run ", r.run_id)));
  r.reason = s.Text(9);
  r.backfill_id = s.Text(10);
  r.created_at = s.Int(11);
  r.started_at = s.Int(12);
  r.ended_at = s.Int(13);
  r.deadline_at = s.Int(14);
  r.deadline_missed_at = s.Int(15);
  return r;
}

constexpr char kAttemptCols[] =
    "attempt_id, run_id, task_id, try_number, worker, state, started_at, ended_at, exit_code, "
    "error";

AttemptRow ReadAttempt(const Stmt& s) {
  AttemptRow a;
  a.attempt_id = s.Int(0);
  a.run_id = s.Text(1);
  a.task_id = s.Text(2);
  a.try_number = static_cast<int>(s.Int(3));
  a.worker = s.Text(4);
  a.state = s.Text(5);
  a.started_at = s.Int(6);
  a.ended_at = s.Int(7);
  if (!s.IsNull(8)) a.exit_code = static_cast<int>(s.Int(8));
  a.error = s.Text(9);
  return a;
}

absl::StatusOr<TaskInstanceRow> ReadTaskInstance(const Stmt& s) {
  TaskInstanceRow t;
  t.run_id = s.Text(0);
  t.task_id = s.Text(1);
  t.state = s.Text(2);
  t.try_number = static_cast<int>(s.Int(3));
  t.max_tries = static_cast<int>(s.Int(4));
  t.lost_count = static_cast<int>(s.Int(5));
  t.next_retry_at = s.Int(6);
  t.queued_at = s.Int(7);
  t.started_at = s.Int(8);
  t.ended_at = s.Int(9);
  t.worker = s.Text(10);
  t.error = s.Text(11);
  DE_ASSIGN_OR_RETURN(t.counters, CountersFromJson(s.Text(12), absl::StrCat("task ", t.task_id,
                                                                            " of run ", t.run_id)));
  t.deadline_at = s.Int(13);
  t.deadline_missed_at = s.Int(14);
  return t;
}

WorkerRow ReadWorker(const Stmt& s) {
  WorkerRow w;
  w.name = s.Text(0);
  w.slots = static_cast<int>(s.Int(1));
  w.pools = absl::StrSplit(s.Text(2), ',', absl::SkipEmpty());
  w.version = s.Text(3);
  w.first_seen = s.Int(4);
  w.last_seen = s.Int(5);
  w.state = s.Text(6);
  return w;
}

DagRow ReadDag(const Stmt& s) {
  DagRow d;
  d.dag_id = s.Text(0);
  d.latest_version = static_cast<int>(s.Int(1));
  d.paused = s.Int(2) != 0;
  d.created_at = s.Int(3);
  d.updated_at = s.Int(4);
  return d;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  DE_ASSIGN_OR_RETURN(auto db, Db::Open(path));
  DE_RETURN_IF_ERROR(Migrate(db.get(), EmbeddedMigrations()));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

absl::StatusOr<std::optional<DagRow>> Store::GetDag(const std::string& dag_id) {
  Stmt& s = db_->Cached(
      "SELECT dag_id, latest_version, paused, created_at, updated_at FROM dags WHERE dag_id = ?");
  s.Bind(1, dag_id);
  return FirstRow(s, ReadDag);
}

absl::StatusOr<std::vector<DagRow>> Store::ListDags() {
  Stmt& s = db_->Cached(
      "SELECT dag_id, latest_version, paused, created_at, updated_at FROM dags ORDER BY dag_id");
  return CollectRows(s, ReadDag);
}

absl::StatusOr<std::optional<DagVersionRow>> Store::GetDagVersion(const std::string& dag_id,
                                                                  int version) {
  Stmt& s = db_->Cached(
      "SELECT dag_id, version, yaml, source, created_at FROM dag_versions "
      "WHERE dag_id = ? AND version = ?");
  ResetOnExit reset_on_exit(s);
  s.Bind(1, dag_id).Bind(2, version);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::nullopt;
  DagVersionRow v;
  v.dag_id = s.Text(0);
  v.version = static_cast<int>(s.Int(1));
  v.yaml = s.Text(2);
  v.source = s.Text(3);
  v.created_at = s.Int(4);
  return v;
}

absl::StatusOr<std::vector<int>> Store::ListDagVersions(const std::string& dag_id) {
  Stmt& s = db_->Cached("SELECT version FROM dag_versions WHERE dag_id = ? ORDER BY version");
  s.Bind(1, dag_id);
  return CollectRows(s, [](const Stmt& st) { return static_cast<int>(st.Int(0)); });
}

absl::Status Store::InsertDagVersion(const DagVersionRow& row) {
  DE_RETURN_IF_ERROR(db_->Cached("INSERT INTO dags(dag_id, latest_version, paused, created_at, "
                                 "updated_at) VALUES (?, ?, 0, ?, ?) ON CONFLICT(dag_id) DO "
                                 "UPDATE SET latest_version = excluded.latest_version, "
                                 "updated_at = excluded.updated_at")
                         .Bind(1, row.dag_id)
                         .Bind(2, row.version)
                         .Bind(3, row.created_at)
                         .Bind(4, row.created_at)
                         .Run());
  return db_->Cached("INSERT INTO dag_versions(dag_id, version, yaml, source, created_at) "
                     "VALUES (?, ?, ?, ?, ?)")
      .Bind(1, row.dag_id)
      .Bind(2, row.version)
      .Bind(3, row.yaml)
      .Bind(4, row.source)
      .Bind(5, row.created_at)
      .Run();
}

absl::Status Store::SetPaused(const std::string& dag_id, bool paused, int64_t now) {
  return db_->Cached("UPDATE dags SET paused = ?, updated_at = ? WHERE dag_id = ?")
      .Bind(1, paused ? 1 : 0)
      .Bind(2, now)
      .Bind(3, dag_id)
      .Run();
}

absl::StatusOr<int> Store::DeleteDag(const std::string& dag_id) {
  Stmt& count = db_->Cached("SELECT count(*) FROM runs WHERE dag_id = ?");
  count.Bind(1, dag_id);
  DE_ASSIGN_OR_RETURN(bool row, count.Step());
  int runs = row ? static_cast<int>(count.Int(0)) : 0;
  count.Reset();
  for (const char* sql :
       {"DELETE FROM attempts WHERE run_id IN (SELECT run_id FROM runs WHERE dag_id = ?)",
        "DELETE FROM task_instances WHERE run_id IN (SELECT run_id FROM runs WHERE dag_id = ?)",
        "DELETE FROM runs WHERE dag_id = ?", "DELETE FROM dag_versions WHERE dag_id = ?",
        "DELETE FROM dags WHERE dag_id = ?"}) {
    DE_RETURN_IF_ERROR(db_->Cached(sql).Bind(1, dag_id).Run());
  }
  return runs;
}

absl::Status Store::InsertRun(const RunRow& r) {
  return db_->Cached(absl::StrCat("INSERT INTO runs(", kRunCols,
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
      .Bind(1, r.run_id)
      .Bind(2, r.dag_id)
      .Bind(3, r.dag_version)
      .Bind(4, r.run_type)
      .Bind(5, r.state)
      .Bind(6, r.logical_date)
      .Bind(7, r.interval_start)
      .Bind(8, r.interval_end)
      .Bind(9, ConfToJson(r.conf))
      .Bind(10, r.reason)
      .Bind(11, r.backfill_id)
      .Bind(12, r.created_at)
      .BindOptional(13, r.started_at)
      .BindOptional(14, r.ended_at)
      .BindOptional(15, r.deadline_at)
      .BindOptional(16, r.deadline_missed_at)
      .Run();
}

absl::Status Store::UpdateRun(const RunRow& r) {
  return db_->Cached("UPDATE runs SET state = ?, reason = ?, started_at = ?, ended_at = ?, "
                     "deadline_at = ?, deadline_missed_at = ? WHERE run_id = ?")
      .Bind(1, r.state)
      .Bind(2, r.reason)
      .BindOptional(3, r.started_at)
      .BindOptional(4, r.ended_at)
      .BindOptional(5, r.deadline_at)
      .BindOptional(6, r.deadline_missed_at)
      .Bind(7, r.run_id)
      .Run();
}

absl::StatusOr<std::optional<RunRow>> Store::GetRun(const std::string& run_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kRunCols, " FROM runs WHERE run_id = ?"));
  s.Bind(1, run_id);
  return FirstRow(s, ReadRun);
}

absl::StatusOr<bool> Store::RunExists(const std::string& run_id) {
  Stmt& s = db_->Cached("SELECT 1 FROM runs WHERE run_id = ?");
  ResetOnExit reset_on_exit(s);
  s.Bind(1, run_id);
  return s.Step();
}

absl::StatusOr<std::vector<RunRow>> Store::ListRuns(const std::string& dag_id,
                                                    const std::string& state, int limit) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE (?1 = '' OR dag_id = ?1) AND (?2 = '' OR state = ?2) "
      "ORDER BY logical_date DESC, created_at DESC LIMIT ?3"));
  s.Bind(1, dag_id).Bind(2, state).Bind(3, limit);
  return CollectRows(s, ReadRun);
}

absl::StatusOr<std::vector<RunRow>> Store::ListUnfinishedRuns() {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE state IN ('waiting', 'queued', 'running') ORDER BY logical_date, "
      "created_at"));
  return CollectRows(s, ReadRun);
}

absl::StatusOr<std::map<std::string, int64_t>> Store::LastSuccessTimes() {
  Stmt& s = db_->Cached(
      "SELECT dag_id, max(ended_at) FROM runs WHERE state = 'success' GROUP BY dag_id");
  std::map<std::string, int64_t> out;
  DE_ASSIGN_OR_RETURN(auto rows, CollectRows(s, [](const Stmt& st) {
                        return std::make_pair(st.Text(0), st.Int(1));
                      }));
  for (auto& [dag, at] : rows) out[dag] = at;
  return out;
}

absl::Status Store::InsertTaskInstance(const TaskInstanceRow& t) {
  return db_->Cached("INSERT INTO task_instances(run_id, task_id, state, try_number, max_tries, "
                     "lost_count, next_retry_at, queued_at, started_at, ended_at, worker, error, "
                     "counters, deadline_at, deadline_missed_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, t.run_id)
      .Bind(2, t.task_id)
      .Bind(3, t.state)
      .Bind(4, t.try_number)
      .Bind(5, t.max_tries)
      .Bind(6, t.lost_count)
      .BindOptional(7, t.next_retry_at)
      .BindOptional(8, t.queued_at)
      .BindOptional(9, t.started_at)
      .BindOptional(10, t.ended_at)
      .Bind(11, t.worker)
      .Bind(12, t.error)
      .Bind(13, CountersToJson(t.counters))
      .BindOptional(14, t.deadline_at)
      .BindOptional(15, t.deadline_missed_at)
      .Run();
}

absl::Status Store::UpdateTaskInstance(const TaskInstanceRow& t) {
  return db_->Cached("UPDATE task_instances SET state = ?, try_number = ?, max_tries = ?, "
                     "lost_count = ?, next_retry_at = ?, queued_at = ?, started_at = ?, "
                     "ended_at = ?, worker = ?, error = ?, counters = ?, deadline_at = ?, "
                     "deadline_missed_at = ? WHERE run_id = ? AND task_id = ?")
      .Bind(1, t.state)
      .Bind(2, t.try_number)
      .Bind(3, t.max_tries)
      .Bind(4, t.lost_count)
      .BindOptional(5, t.next_retry_at)
      .BindOptional(6, t.queued_at)
      .BindOptional(7, t.started_at)
      .BindOptional(8, t.ended_at)
      .Bind(9, t.worker)
      .Bind(10, t.error)
      .Bind(11, CountersToJson(t.counters))
      .BindOptional(12, t.deadline_at)
      .BindOptional(13, t.deadline_missed_at)
      .Bind(14, t.run_id)
      .Bind(15, t.task_id)
      .Run();
}

absl::StatusOr<std::vector<TaskInstanceRow>> Store::ListTaskInstances(const std::string& run_id) {
  Stmt& s = db_->Cached(
      "SELECT run_id, task_id, state, try_number, max_tries, lost_count, next_retry_at, "
      "queued_at, started_at, ended_at, worker, error, counters, deadline_at, "
      "deadline_missed_at FROM task_instances WHERE run_id = ? ORDER BY rowid");
  s.Bind(1, run_id);
  return CollectRows(s, ReadTaskInstance);
}

absl::StatusOr<int64_t> Store::InsertAttempt(const AttemptRow& a) {
  DE_RETURN_IF_ERROR(db_->Cached("INSERT INTO attempts(run_id, task_id, try_number, worker, "
                                 "state, started_at) VALUES (?, ?, ?, ?, ?, ?)")
                         .Bind(1, a.run_id)
                         .Bind(2, a.task_id)
                         .Bind(3, a.try_number)
                         .Bind(4, a.worker)
                         .Bind(5, a.state)
                         .Bind(6, a.started_at)
                         .Run());
  return db_->LastInsertId();
}

absl::Status Store::UpdateAttempt(const AttemptRow& a) {
  Stmt& s = db_->Cached(
      "UPDATE attempts SET state = ?, ended_at = ?, exit_code = ?, error = ? WHERE attempt_id = ?");
  s.Bind(1, a.state).BindOptional(2, a.ended_at);
  if (a.exit_code) {
    s.Bind(3, *a.exit_code);
  } else {
    s.BindNull(3);
  }
  return s.Bind(4, a.error).Bind(5, a.attempt_id).Run();
}

absl::StatusOr<std::vector<AttemptRow>> Store::ListAttempts(const std::string& run_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kAttemptCols,
                                     " FROM attempts WHERE run_id = ? ORDER BY attempt_id"));
  s.Bind(1, run_id);
  return CollectRows(s, ReadAttempt);
}

absl::StatusOr<std::optional<AttemptRow>> Store::GetAttempt(int64_t attempt_id) {
  Stmt& s =
      db_->Cached(absl::StrCat("SELECT ", kAttemptCols, " FROM attempts WHERE attempt_id = ?"));
  s.Bind(1, attempt_id);
  return FirstRow(s, ReadAttempt);
}

absl::Status Store::UpsertWorker(const WorkerRow& w) {
  return db_->Cached("INSERT INTO workers(name, slots, pools, version, first_seen, last_seen, "
                     "state) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                     "slots = excluded.slots, pools = excluded.pools, version = excluded.version, "
                     "last_seen = excluded.last_seen, state = excluded.state")
      .Bind(1, w.name)
      .Bind(2, w.slots)
      .Bind(3, absl::StrJoin(w.pools, ","))
      .Bind(4, w.version)
      .Bind(5, w.first_seen)
      .Bind(6, w.last_seen)
      .Bind(7, w.state)
      .Run();
}

absl::StatusOr<std::vector<WorkerRow>> Store::ListWorkers() {
  Stmt& s = db_->Cached(
      "SELECT name, slots, pools, version, first_seen, last_seen, state FROM workers "
      "ORDER BY name");
  return CollectRows(s, ReadWorker);
}

}  // namespace de::store

namespace de::store {
namespace {

constexpr char kBackfillCols[] =
    "backfill_id, dag_id, dag_version, from_date, to_date, rerun, reverse, max_active, conf, "
    "state, total, cursor, kept, created_at, ended_at";

absl::StatusOr<BackfillRow> ReadBackfill(const Stmt& s) {
  BackfillRow b;
  b.backfill_id = s.Text(0);
  b.dag_id = s.Text(1);
  b.dag_version = static_cast<int>(s.Int(2));
  b.from_date = s.Int(3);
  b.to_date = s.Int(4);
  b.rerun = s.Text(5);
  b.reverse = s.Int(6) != 0;
  b.max_active = static_cast<int>(s.Int(7));
  DE_ASSIGN_OR_RETURN(b.conf, ConfFromJson(s.Text(8), absl::StrCat("backfill ", b.backfill_id)));
  b.state = s.Text(9);
  b.total = static_cast<int>(s.Int(10));
  b.cursor = static_cast<int>(s.Int(11));
  b.kept = static_cast<int>(s.Int(12));
  b.created_at = s.Int(13);
  b.ended_at = s.Int(14);
  return b;
}

}  // namespace

absl::StatusOr<std::optional<RunRow>> Store::FindIntervalRun(const std::string& dag_id,
                                                             int64_t logical_date) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE dag_id = ? AND logical_date = ? AND run_type IN ('scheduled', "
      "'backfill')"));
  s.Bind(1, dag_id).Bind(2, logical_date);
  return FirstRow(s, ReadRun);
}

absl::StatusOr<std::optional<int64_t>> Store::LatestLogicalDate(const std::string& dag_id,
                                                                const std::string& run_type) {
  Stmt& s = db_->Cached(
      "SELECT max(logical_date) FROM runs WHERE dag_id = ? AND run_type = ?");
  ResetOnExit reset_on_exit(s);
  s.Bind(1, dag_id).Bind(2, run_type);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.IsNull(0)) return std::nullopt;
  return s.Int(0);
}

absl::Status Store::SetRunBackfill(const std::string& run_id, const std::string& backfill_id) {
  return db_->Cached("UPDATE runs SET backfill_id = ? WHERE run_id = ?")
      .Bind(1, backfill_id)
      .Bind(2, run_id)
      .Run();
}

absl::StatusOr<std::set<int64_t>> Store::SucceededLogicalDates(const std::string& dag_id,
                                                               const std::string& task_id,
                                                               int64_t from, int64_t to) {
  Stmt& s = task_id.empty()
                ? db_->Cached("SELECT DISTINCT logical_date FROM runs WHERE dag_id = ?1 AND "
                              "state = 'success' AND logical_date >= ?2 AND logical_date < ?3")
                : db_->Cached(
                      "SELECT DISTINCT r.logical_date FROM runs r JOIN task_instances t ON "
                      "t.run_id = r.run_id WHERE r.dag_id = ?1 AND t.task_id = ?4 AND "
                      "t.state = 'success' AND r.logical_date >= ?2 AND r.logical_date < ?3");
  s.Bind(1, dag_id).Bind(2, from).Bind(3, to);
  if (!task_id.empty()) s.Bind(4, task_id);
  std::set<int64_t> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.insert(s.Int(0));
  }
  return out;
}

absl::StatusOr<std::optional<RunRow>> Store::PreviousRun(const std::string& dag_id,
                                                         int64_t logical_date) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE dag_id = ? AND logical_date < ? ORDER BY logical_date DESC, "
      "created_at DESC LIMIT 1"));
  s.Bind(1, dag_id).Bind(2, logical_date);
  return FirstRow(s, ReadRun);
}

absl::StatusOr<std::optional<TaskInstanceRow>> Store::GetTaskInstance(const std::string& run_id,
                                                                      const std::string& task_id) {
  DE_ASSIGN_OR_RETURN(auto all, ListTaskInstances(run_id));
  for (auto& t : all) {
    if (t.task_id == task_id) return t;
  }
  return std::nullopt;
}

absl::Status Store::InsertBackfill(const BackfillRow& b) {
  return db_->Cached(absl::StrCat("INSERT INTO backfills(", kBackfillCols,
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
      .Bind(1, b.backfill_id)
      .Bind(2, b.dag_id)
      .Bind(3, b.dag_version)
      .Bind(4, b.from_date)
      .Bind(5, b.to_date)
      .Bind(6, b.rerun)
      .Bind(7, b.reverse ? 1 : 0)
      .Bind(8, b.max_active)
      .Bind(9, ConfToJson(b.conf))
      .Bind(10, b.state)
      .Bind(11, b.total)
      .Bind(12, b.cursor)
      .Bind(13, b.kept)
      .Bind(14, b.created_at)
      .BindOptional(15, b.ended_at)
      .Run();
}

absl::Status Store::UpdateBackfill(const BackfillRow& b) {
  return db_->Cached("UPDATE backfills SET state = ?, cursor = ?, kept = ?, ended_at = ? "
                     "WHERE backfill_id = ?")
      .Bind(1, b.state)
      .Bind(2, b.cursor)
      .Bind(3, b.kept)
      .BindOptional(4, b.ended_at)
      .Bind(5, b.backfill_id)
      .Run();
}

absl::StatusOr<std::optional<BackfillRow>> Store::GetBackfill(const std::string& backfill_id) {
  Stmt& s = db_->Cached(
      absl::StrCat("SELECT ", kBackfillCols, " FROM backfills WHERE backfill_id = ?"));
  s.Bind(1, backfill_id);
  return FirstRow(s, ReadBackfill);
}

absl::StatusOr<std::vector<BackfillRow>> Store::ListBackfills(const std::string& dag_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kBackfillCols,
                                     " FROM backfills WHERE (?1 = '' OR dag_id = ?1) "
                                     "ORDER BY created_at DESC"));
  s.Bind(1, dag_id);
  return CollectRows(s, ReadBackfill);
}

absl::StatusOr<std::map<std::string, int>> Store::BackfillRunStates(
    const std::string& backfill_id) {
  Stmt& s = db_->Cached(
      "SELECT state, count(*) FROM runs WHERE backfill_id = ? GROUP BY state");
  s.Bind(1, backfill_id);
  std::map<std::string, int> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out[s.Text(0)] = static_cast<int>(s.Int(1));
  }
  return out;
}

}  // namespace de::store
