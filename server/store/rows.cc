#include "server/store/rows.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "de/v1/types.pb.h"

namespace de::store::internal {

std::string ConfToJson(const std::map<std::string, std::string>& conf) {
  v1::Run run;
  for (const auto& [k, v] : conf) (*run.mutable_conf())[k] = v;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(run, &out);
  return out;
}
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
  t.map_index = s.IsNull(15) ? -1 : static_cast<int>(s.Int(15));
  t.map_item = s.Text(16);
  return t;
}

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

}  // namespace de::store::internal
