// Backfills: one run per interval of a range, through the live scheduler, under the backfill's
// own max_active; rerun none/failed/all; progress; cancel. Under the scheduler's lock.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/dag/dag_params.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "server/sched/ticks.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

// "2024-01-31 03:00 Europe/Berlin (2024-01-31 02:00 UTC)"; "2024-01-31 02:00 UTC" in UTC.
std::string Both(absl::Time t, absl::TimeZone tz) {
  const std::string utc =
      absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone()), " UTC");
  if (tz.name() == "UTC") return utc;
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M", t, tz), " ", tz.name(), " (", utc, ")");
}

// Why the range `range` (from .. to before clamping; `to` itself included when `to_inclusive`)
// holds no interval: it lies wholly before start_date or after end_date (each named), or between
// two ticks of the schedule.
std::string NoIntervalReason(const dag::DagSpec& spec, const std::string& range, absl::Time from,
                             absl::Time to, bool to_inclusive, absl::TimeZone tz) {
  std::string out = absl::StrCat("backfill range ", range, " holds no interval of ", spec.id,
                                 "'s schedule '", spec.schedule, "'");
  if (spec.start_date && (to < *spec.start_date || (!to_inclusive && to == *spec.start_date))) {
    absl::StrAppend(&out, ": it ends before start_date ", Both(*spec.start_date, tz),
                    " (a backfill stays inside start_date..end_date)");
  } else if (spec.end_date && from > *spec.end_date) {
    absl::StrAppend(&out, ": it starts after end_date ", Both(*spec.end_date, tz),
                    " (a backfill stays inside start_date..end_date)");
  } else if (spec.start_date || spec.end_date) {
    absl::StrAppend(&out, " inside its start_date..end_date");
  }
  return out;
}

// The logical dates a backfill covers: ticks in [from, to] (a date --from is that day's local
// midnight; a date --to includes that whole local day), inside start_date..end_date, each of
// whose intervals has already ended.
absl::StatusOr<std::vector<int64_t>> BackfillDates(const v1::CreateBackfillRequest& req,
                                                   const dag::DagSpec& spec,
                                                   const dag::Schedule& schedule, absl::Time now,
                                                   size_t cap) {
  const absl::TimeZone tz = schedule.zone();
  auto local_day = [&](int64_t ms) {
    return absl::CivilDay(absl::ToCivilDay(FromMillis(ms), absl::UTCTimeZone()));
  };
  absl::Time from = FromMillis(req.from_ms());
  absl::Time to = FromMillis(req.to_ms());
  bool inclusive = true;
  if (req.from_is_date()) from = absl::FromCivil(local_day(req.from_ms()), tz);
  if (req.to_is_date()) {
    to = absl::FromCivil(local_day(req.to_ms()) + 1, tz);   // the whole day
    inclusive = false;
  }
  const absl::Time asked_from = from, asked_to = to;
  const bool asked_inclusive = inclusive;
  if (spec.start_date && from < *spec.start_date) from = *spec.start_date;
  if (spec.end_date && to > *spec.end_date) {
    to = *spec.end_date;
    inclusive = true;
  }
  bool truncated = false;
  std::vector<int64_t> dates = TicksIn(schedule, from, to, inclusive, cap, &truncated);
  if (truncated) {
    return absl::InvalidArgumentError(
        absl::StrCat("backfill range has more than ", cap, " intervals; split it"));
  }
  if (dates.empty()) {
    // As given: a date stays a date (a date --to is that whole day).
    const std::string range = absl::StrCat(
        req.from_is_date() ? absl::FormatCivilTime(local_day(req.from_ms())) : Both(asked_from, tz),
        " .. ",
        req.to_is_date() ? absl::FormatCivilTime(local_day(req.to_ms())) : Both(asked_to, tz));
    return absl::InvalidArgumentError(
        NoIntervalReason(spec, range, asked_from, asked_to, asked_inclusive, tz));
  }
  for (int64_t ms : dates) {
    const dag::DataInterval iv = schedule.IntervalStartingAt(FromMillis(ms));
    if (iv.end > now) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the interval with logical date ", Both(iv.start, tz), " has not ended yet (it ends ",
          Both(iv.end, tz), "); a backfill only runs intervals that have ended: end the range "
          "before it"));
    }
  }
  return dates;
}

}  // namespace

absl::StatusOr<v1::Backfill> Scheduler::CreateBackfill(const v1::CreateBackfillRequest& req) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(req.dag_id()));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", req.dag_id(), "'"));
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(req.dag_id(), d->latest_version));
  if (spec->schedule.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DAG ", req.dag_id(), " has no schedule: a backfill needs one to know its intervals"));
  }
  const std::string rerun = req.rerun().empty() ? "none" : req.rerun();
  if (rerun != "none" && rerun != "failed" && rerun != "all") {
    return absl::InvalidArgumentError(
        absl::StrCat("--rerun must be none, failed or all, not '", rerun, "'"));
  }
  if (req.to_ms() < req.from_ms()) {
    return absl::InvalidArgumentError("backfill range is empty: --to is before --from");
  }
  DE_ASSIGN_OR_RETURN(auto schedule,
                      dag::Schedule::Parse(spec->schedule, spec->timezone, spec->start_date));
  DE_ASSIGN_OR_RETURN(std::vector<int64_t> dates,
                      BackfillDates(req, *spec, schedule, clock_->Now(),
                                    options_.max_backfill_intervals));
  if (req.reverse()) std::reverse(dates.begin(), dates.end());
  store::BackfillRow row;
  row.dag_id = req.dag_id();
  row.dag_version = d->latest_version;
  row.from_date = dates.empty() ? req.from_ms() : std::min(dates.front(), dates.back());
  row.to_date = dates.empty() ? req.to_ms() : std::max(dates.front(), dates.back());
  row.rerun = rerun;
  row.reverse = req.reverse();
  row.max_active = req.max_active() > 0 ? req.max_active() : spec->max_active_runs;
  DE_ASSIGN_OR_RETURN(row.conf,
                      dag::CheckConf(*spec, std::map<std::string, std::string>(
                                                req.conf().begin(), req.conf().end())));
  row.total = static_cast<int>(dates.size());
  row.created_at = ToMillis(clock_->Now());
  if (req.dry_run()) {
    row.state = "dry_run";
    DE_ASSIGN_OR_RETURN(v1::Backfill out, BackfillToProto(row));
    for (int64_t t : dates) {
      DE_ASSIGN_OR_RETURN(auto existing, store_->FindIntervalRun(req.dag_id(), t));
      if (!existing) {
        out.add_logical_dates_ms(t);
      } else if (FindRun(existing->run_id) == nullptr &&
                 (rerun == "all" || (rerun == "failed" && (existing->state == "failed" ||
                                                           existing->state == "cancelled")))) {
        out.add_rerun_dates_ms(t);
      } else {
        out.add_keep_dates_ms(t);
      }
    }
    return out;
  }
  const std::string base = NewRunId(req.dag_id(), "backfill", clock_->Now());
  row.backfill_id = base;
  for (int n = 2;; ++n) {
    DE_ASSIGN_OR_RETURN(auto existing, store_->GetBackfill(row.backfill_id));
    if (!existing) break;
    row.backfill_id = absl::StrCat(base, "_", n);
  }
  row.state = "running";
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_RETURN_IF_ERROR(store_->InsertBackfill(row));
  BackfillState& state = backfills_[row.backfill_id];
  state.row = row;
  state.dates = std::move(dates);
  state.spec = spec;
  state.schedule = std::make_shared<const dag::Schedule>(std::move(schedule));
  const std::string id = row.backfill_id;
  DE_RETURN_IF_ERROR(FinishStep(tx, ProgressBackfill(state), "backfill"));
  spdlog::info("dag={} backfill={} created: {} intervals, rerun {}, max_active {}", req.dag_id(),
               id, row.total, rerun, row.max_active);
  Dispatch();
  DE_ASSIGN_OR_RETURN(auto stored, store_->GetBackfill(id));
  return BackfillToProto(*stored);
}

absl::Status Scheduler::ProgressBackfills() {
  for (auto& [id, b] : backfills_) DE_RETURN_IF_ERROR(ProgressBackfill(b));
  return absl::OkStatus();
}

absl::Status Scheduler::ProgressBackfill(BackfillState& b) {
  if (b.row.state != "running") return absl::OkStatus();
  const dag::DagSpec& spec = *b.spec;
  auto active_count = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (const auto& [id, r] : runs_) {
      n += r->row.backfill_id == b.row.backfill_id && IsActive(r->state);
    }
    return n;
  };
  int active = active_count();
  const int before = b.row.cursor;
  while (b.row.cursor < b.row.total && active < b.row.max_active) {
    const absl::Time t = FromMillis(b.dates[b.row.cursor]);
    DE_ASSIGN_OR_RETURN(auto existing, store_->FindIntervalRun(b.row.dag_id, ToMillis(t)));
    if (existing) {
      const bool is_active = FindRun(existing->run_id) != nullptr;
      const bool redo =
          !is_active &&
          (b.row.rerun == "all" || (b.row.rerun == "failed" && (existing->state == "failed" ||
                                                                existing->state == "cancelled")));
      if (redo) {
        DE_RETURN_IF_ERROR(store_->SetRunBackfill(existing->run_id, b.row.backfill_id));
        std::set<std::string> all;
        for (const auto& task : spec.tasks) all.insert(task.id);
        DE_RETURN_IF_ERROR(ClearTasks(existing->run_id, all));
        ++active;
      } else {
        ++b.row.kept;
      }
    } else {
      dag::DataInterval iv = b.schedule->IntervalStartingAt(t);
      DE_RETURN_IF_ERROR(CreateRun(b.row.dag_id, b.row.dag_version, "backfill", t, iv.start, iv.end,
                                   b.row.conf, b.row.backfill_id)
                             .status());
      ++active;
    }
    ++b.row.cursor;
  }
  if (b.row.cursor == b.row.total && active_count() == 0) {
    DE_ASSIGN_OR_RETURN(auto states, store_->BackfillRunStates(b.row.backfill_id));
    b.row.state = (states["failed"] + states["cancelled"]) > 0 ? "failed" : "success";
    b.row.ended_at = ToMillis(clock_->Now());
    spdlog::info("backfill={} finished: {}", b.row.backfill_id, b.row.state);
  }
  if (b.row.cursor != before || b.row.state != "running") {
    DE_RETURN_IF_ERROR(store_->UpdateBackfill(b.row));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Backfill> Scheduler::BackfillToProto(const store::BackfillRow& row) {
  v1::Backfill out;
  out.set_backfill_id(row.backfill_id);
  out.set_dag_id(row.dag_id);
  out.set_from_ms(row.from_date);
  out.set_to_ms(row.to_date);
  out.set_rerun(row.rerun);
  out.set_reverse(row.reverse);
  out.set_max_active(row.max_active);
  out.set_state(row.state);
  out.set_created_at_ms(row.created_at);
  out.set_ended_at_ms(row.ended_at);
  out.set_total(row.total);
  for (const auto& [k, v] : row.conf) (*out.mutable_conf())[k] = v;
  if (!row.backfill_id.empty()) {
    DE_ASSIGN_OR_RETURN(auto states, store_->BackfillRunStates(row.backfill_id));
    for (const auto& [state, n] : states) (*out.mutable_runs_by_state())[state] = n;
  }
  if (row.kept > 0) (*out.mutable_runs_by_state())["kept"] = row.kept;
  if (row.total - row.cursor > 0 && row.state != "dry_run") {
    // A cancelled backfill never creates the rest: they are not pending, but still counted, so
    // the counts add up to the total.
    (*out.mutable_runs_by_state())[row.state == "cancelled" ? "not_created" : "pending"] =
        row.total - row.cursor;
  }
  return out;
}

absl::StatusOr<v1::ListBackfillsResponse> Scheduler::ListBackfills(const std::string& dag_id) {
  absl::MutexLock lock(&mu_);
  v1::ListBackfillsResponse resp;
  DE_ASSIGN_OR_RETURN(auto rows, store_->ListBackfills(dag_id));
  for (const auto& r : rows) {
    DE_ASSIGN_OR_RETURN(*resp.add_backfills(), BackfillToProto(r));
  }
  return resp;
}

absl::StatusOr<v1::Backfill> Scheduler::GetBackfill(const std::string& backfill_id) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto row, store_->GetBackfill(backfill_id));
  if (!row) return absl::NotFoundError(absl::StrCat("no backfill '", backfill_id, "'"));
  return BackfillToProto(*row);
}

absl::StatusOr<v1::Backfill> Scheduler::CancelBackfill(const std::string& backfill_id) {
  absl::MutexLock lock(&mu_);
  auto it = backfills_.find(backfill_id);
  if (it == backfills_.end()) {
    DE_ASSIGN_OR_RETURN(auto row, store_->GetBackfill(backfill_id));
    if (!row) return absl::NotFoundError(absl::StrCat("no backfill '", backfill_id, "'"));
    return absl::FailedPreconditionError(
        absl::StrCat("backfill ", backfill_id, " has already finished (", row->state, ")"));
  }
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  BackfillState& b = it->second;
  b.row.state = "cancelled";
  b.row.ended_at = ToMillis(clock_->Now());
  absl::Status st = store_->UpdateBackfill(b.row);
  for (auto& [id, r] : runs_) {
    if (!st.ok()) break;
    if (r->row.backfill_id == backfill_id && IsActive(r->state)) {
      st = CancelActiveRun(*r, "backfill cancelled");
    }
  }
  store::BackfillRow row = b.row;
  DE_RETURN_IF_ERROR(FinishStep(tx, st, "cancel backfill"));
  Dispatch();
  return BackfillToProto(row);
}

}  // namespace de::sched
