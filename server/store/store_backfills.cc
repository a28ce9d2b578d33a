// Store: backfills.
#include "server/store/store.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/store/rows.h"

namespace de::store {

using internal::CollectRows;
using internal::ConfToJson;
using internal::FirstRow;
using internal::ReadBackfill;
using internal::kBackfillCols;

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
