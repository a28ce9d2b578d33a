// Store: opening (migrations), DAGs and their versions, workers.
#include "server/store/store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "server/store/migrator.h"
#include "server/store/rows.h"

namespace de::store {

using internal::CollectRows;
using internal::FirstRow;
using internal::ReadDag;
using internal::ReadWorker;
using internal::kDagCols;
using internal::kWorkerCols;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, bool defer_sync) {
  DE_ASSIGN_OR_RETURN(auto db, Db::Open(path, defer_sync));
  DE_RETURN_IF_ERROR(Migrate(db.get(), EmbeddedMigrations(db->dialect())));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

absl::StatusOr<std::optional<DagRow>> Store::GetDag(const std::string& dag_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kDagCols, " FROM dags WHERE dag_id = ?"));
  s.Bind(1, dag_id);
  return FirstRow(s, ReadDag);
}

absl::StatusOr<std::vector<DagRow>> Store::ListDags() {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kDagCols, " FROM dags ORDER BY dag_id"));
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
      absl::StrCat("SELECT ", kWorkerCols, " FROM workers ORDER BY name"));
  return CollectRows(s, ReadWorker);
}

}  // namespace de::store
