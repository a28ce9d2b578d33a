// Store: history retention (dectl db clean). Finished runs older than a cutoff go with their task
// instances, attempts and alert deliveries; everything else stays (DAGs and their versions,
// backfills, workers, tokens, the audit log, variables, secrets). The scheduler lists the
// candidates on its read connection and deletes them a batch at a time, so that no transaction
// holds the scheduler for long.
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "server/store/store.h"

namespace de::store {
namespace {

constexpr char kFinished[] = "state IN ('success', 'failed', 'cancelled')";

// A JSON array of strings, the one parameter of a batch statement.
std::string JsonArray(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

// The ids in ?1 (a JSON array) as a subquery, in the database's own words.
std::string IdsIn(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "(SELECT value FROM json_each(?1))"
                                     : "(SELECT jsonb_array_elements_text(CAST(?1 AS jsonb)))";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Store::ListCleanableRuns(int64_t ended_before,
                                                                  const std::string& dag_id) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT r.run_id FROM runs r WHERE r.", kFinished,
      " AND r.ended_at < ?1 AND (?2 = '' OR r.dag_id = ?2) AND (r.run_type <> 'scheduled' OR "
      "EXISTS (SELECT 1 FROM runs l WHERE l.dag_id = r.dag_id AND l.run_type = 'scheduled' AND "
      "l.logical_date > r.logical_date)) ORDER BY r.ended_at, r.run_id"));
  s.Bind(1, ended_before).Bind(2, dag_id);
  ResetOnExit reset(s);
  std::vector<std::string> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

absl::StatusOr<HistoryCounts> Store::CountRunHistory(const std::vector<std::string>& run_ids) {
  const std::string ids = IdsIn(db_->dialect());
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT (SELECT count(*) FROM runs WHERE run_id IN ", ids,
      "), (SELECT count(*) FROM task_instances WHERE run_id IN ", ids,
      "), (SELECT count(*) FROM attempts WHERE run_id IN ", ids,
      "), (SELECT count(*) FROM alert_outbox WHERE state <> 'pending' AND run_id IN ", ids, ")"));
  s.Bind(1, JsonArray(run_ids));
  ResetOnExit reset(s);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  HistoryCounts out;
  if (!row) return out;
  out.runs = s.Int(0);
  out.task_instances = s.Int(1);
  out.attempts = s.Int(2);
  out.alerts = s.Int(3);
  return out;
}

absl::StatusOr<HistoryCounts> Store::DeleteRunHistory(const std::vector<std::string>& run_ids,
                                                      int64_t ended_before,
                                                      std::vector<std::string>* deleted) {
  const std::string ids = IdsIn(db_->dialect());
  deleted->clear();
  {  // Only what is still finished and old (the list was read before this transaction).
    Stmt& s = db_->Cached(absl::StrCat("SELECT run_id FROM runs WHERE run_id IN ", ids, " AND ",
                                       kFinished, " AND ended_at < ?2"));
    s.Bind(1, JsonArray(run_ids)).Bind(2, ended_before);
    ResetOnExit reset(s);
    while (true) {
      DE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      deleted->push_back(s.Text(0));
    }
  }
  HistoryCounts out;
  if (deleted->empty()) return out;
  const std::string json = JsonArray(*deleted);
  // Children first: the foreign keys cascade, and the counts are of each table's own deletes.
  struct Step {
    const char* table;
    const char* extra;
    int64_t* count;
  };
  for (const Step& step : {Step{"attempts", "", &out.attempts},
                           Step{"task_instances", "", &out.task_instances},
                           Step{"alert_outbox", " AND state <> 'pending'", &out.alerts},
                           Step{"runs", "", &out.runs}}) {
    DE_RETURN_IF_ERROR(db_->Cached(absl::StrCat("DELETE FROM ", step.table, " WHERE run_id IN ",
                                                ids, step.extra))
                           .Bind(1, json)
                           .Run());
    *step.count = db_->Changes();
  }
  return out;
}

}  // namespace de::store
