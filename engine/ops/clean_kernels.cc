#include "engine/ops/clean_kernels.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace de::engine {

namespace {

std::string ColumnList(const Schema& s) {
  std::vector<std::string> names;
  for (const auto& f : s) names.push_back(f.name);
  return absl::StrJoin(names, ", ");
}

int FindColumn(const Schema& s, const std::string& name) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// Builds the plan; with `lenient`, names of columns the (narrowed) schema lacks are skipped
// instead of refused (they were refused, or found unneeded, on the full schema).
struct Builder {
  const CleanSpec& spec;
  const Schema& in;
  bool lenient;
  Schema work;

  absl::Status Unknown(const char* what, const std::string& name) const {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no column '", name, "' (columns: ",
                                                   ColumnList(work), ")"));
  }
  // Index of `name` in the working schema, -1 when skipped (lenient), or an error.
  absl::StatusOr<int> Find(const char* what, const std::string& name) const {
    int i = FindColumn(work, name);
    if (i < 0 && !lenient) return Unknown(what, name);
    return i;
  }
};

}  // namespace

absl::StatusOr<CleanPlan> CleanPlan::Create(const CleanSpec& spec, const Schema& schema,
                                            const std::vector<std::string>& filter_columns) {
  return Build(spec, schema, filter_columns, false);
}

absl::StatusOr<CleanPlan> CleanPlan::Narrow(const Schema& narrowed) const {
  return Build(spec_, narrowed, filter_columns_, true);
}

absl::StatusOr<CleanPlan> CleanPlan::Build(const CleanSpec& spec, const Schema& schema,
                                           const std::vector<std::string>& filter_columns,
                                           bool lenient) {
  CleanPlan p;
  p.spec_ = spec;
  p.filter_columns_ = filter_columns;
  p.in_schema_ = schema;
  Builder b{spec, schema, lenient, schema};
  // 1. rename
  std::set<std::string> renamed_from;
  for (const auto& [from, to] : spec.rename) {
    int i = FindColumn(schema, from);
    if (i < 0) {
      if (lenient) continue;
      return absl::InvalidArgumentError(absl::StrCat("rename: no column '", from, "' (columns: ",
                                                     ColumnList(schema), ")"));
    }
    if (!renamed_from.insert(from).second) {
      return absl::InvalidArgumentError(absl::StrCat("rename: '", from, "' twice"));
    }
    b.work[i].name = to;
  }
  {
    std::set<std::string> names;
    for (const auto& f : b.work) {
      if (!names.insert(f.name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("rename: two columns would be called '", f.name, "'"));
      }
    }
  }
  p.steps_.assign(schema.size(), ColumnSteps{});
  // 2. text
  for (size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].type != Type::kString) continue;
    p.steps_[i].fix_text = true;
    p.steps_[i].trim = spec.trim_all;
    p.steps_[i].null_if = !spec.null_if.empty();
  }
  auto each = [&](const char* what, const std::vector<std::string>& names,
                  auto set) -> absl::Status {
    for (const auto& n : names) {
      DE_ASSIGN_OR_RETURN(int i, b.Find(what, n));
      if (i < 0) continue;
      if (schema[i].type != Type::kString) {
        if (std::string(what) == "trim") continue;  // nothing to trim in a typed column
        return absl::InvalidArgumentError(absl::StrCat(what, ": column '", n, "' is ",
                                                       TypeName(schema[i].type), ", not string"));
      }
      set(p.steps_[i]);
    }
    return absl::OkStatus();
  };
  DE_RETURN_IF_ERROR(each("trim", spec.trim, [](ColumnSteps& s) { s.trim = true; }));
  DE_RETURN_IF_ERROR(each("lower", spec.lower, [](ColumnSteps& s) { s.lower = true; }));
  DE_RETURN_IF_ERROR(each("upper", spec.upper, [](ColumnSteps& s) { s.upper = true; }));
  // 3. cast
  for (const auto& [name, to] : spec.cast) {
    DE_ASSIGN_OR_RETURN(int i, b.Find("cast", name));
    if (i < 0) continue;
    if (!CanCast(b.work[i].type, to)) {
      return absl::InvalidArgumentError(absl::StrCat("cast: column '", name, "' is ",
                                                     TypeName(b.work[i].type), "; cannot cast to ",
                                                     TypeName(to)));
    }
    if (b.work[i].type != to) p.steps_[i].cast = to;
    b.work[i].type = to;
  }
  p.work_schema_ = b.work;
  // 5. dedupe keys
  if (spec.dedupe) {
    for (const auto& k : spec.dedupe->keys) {
      int i = FindColumn(b.work, k);
      if (i < 0) return b.Unknown("dedupe", k);
      p.dedupe_cols_.push_back(i);
    }
  }
  // 6. select / drop
  if (!spec.select.empty()) {
    for (const auto& n : spec.select) {
      int i = FindColumn(b.work, n);
      if (i < 0) return b.Unknown("select", n);
      p.out_cols_.push_back(i);
    }
  } else {
    for (size_t i = 0; i < b.work.size(); ++i) p.out_cols_.push_back(static_cast<int>(i));
  }
  for (const auto& n : spec.drop) {
    DE_ASSIGN_OR_RETURN(int i, b.Find("drop", n));
    if (i < 0) continue;
    p.out_cols_.erase(std::remove(p.out_cols_.begin(), p.out_cols_.end(), i), p.out_cols_.end());
  }
  if (p.out_cols_.empty()) {
    return absl::InvalidArgumentError("select/drop: no column is left to write");
  }
  for (int i : p.out_cols_) p.out_schema_.push_back(b.work[i]);
  for (const auto& c : spec.checks) {
    for (const auto& n : c.columns) {
      if (FindColumn(b.work, n) < 0) return b.Unknown("checks", n);
    }
  }
  // Columns to read: written, filtered on, dedupe keys, checked.
  std::vector<bool> needed(schema.size(), false);
  for (int i : p.out_cols_) needed[i] = true;
  for (int i : p.dedupe_cols_) needed[i] = true;
  for (const auto& n : filter_columns) {
    int i = FindColumn(b.work, n);
    if (i >= 0) needed[i] = true;
  }
  for (const auto& c : spec.checks) {
    for (const auto& n : c.columns) needed[FindColumn(b.work, n)] = true;
  }
  for (size_t i = 0; i < schema.size(); ++i) {
    if (needed[i]) p.input_columns_.push_back(schema[i].name);
  }
  return p;
}

CleanRun::CleanRun(const CleanPlan* plan, const BoundExpr* filter, CheckRunner* checks,
                   int threads)
    : plan_(plan),
      filter_(filter),
      checks_(checks),
      key_positions_(plan->spec().dedupe && plan->spec().dedupe->keep_last) {
  const auto& d = plan->spec().dedupe;
  two_pass_ = d && (d->keep_last || threads > 1);
  pass_ = two_pass_ ? Pass::kCollect : Pass::kSingle;
}

void CleanCounters::Add(const CleanCounters& o) {
  rows_in += o.rows_in;
  rows_out += o.rows_out;
  rows_filtered += o.rows_filtered;
  rows_deduped += o.rows_deduped;
  rows_rejected += o.rows_rejected;
  values_nulled += o.values_nulled;
  values_cast_nulled += o.values_cast_nulled;
  values_repaired += o.values_repaired;
  for (const auto& [k, v] : o.rejected_by_reason) rejected_by_reason[k] += v;
}

void CleanWorker::Reject(const Batch& batch, uint32_t row, int64_t first_row,
                         const std::string& key, std::string detail,
                         std::vector<CsvReject>* rejects) {
  dead_[row] = 1;
  ++counters_.rows_rejected;
  ++counters_.rejected_by_reason[key];
  if (run_->pass() == CleanRun::Pass::kCollect) return;
  CsvReject r;
  r.line = first_row + row;
  r.reason = std::move(detail);
  std::string value;
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    if (c) r.raw.push_back(',');
    value.clear();
    AppendValueText(batch.columns[c], row, &value);
    AppendCsvField(value, &r.raw);
    if (r.raw.size() > (64 << 10)) break;
  }
  rejects->push_back(std::move(r));
}

absl::Status CleanWorker::Dedupe(const Batch& batch, uint64_t position, Selection* sel) {
  const size_t before = sel->size();
  HashKeys(batch, run_->plan().dedupe_columns(), *sel, &keys_);
  size_t k = 0;
  switch (run_->pass()) {
    case CleanRun::Pass::kSingle:
      sel->Retain([&](uint32_t) { return run_->key_set().Insert(keys_[k++]); });
      break;
    case CleanRun::Pass::kCollect:
      for (size_t i = 0; i < sel->size(); ++i) {
        run_->key_positions().Offer(keys_[i], position + (*sel)[i]);
      }
      *sel = Selection::Of({});
      return absl::OkStatus();
    case CleanRun::Pass::kEmit:
      sel->Retain([&](uint32_t r) { return run_->key_positions().IsKept(keys_[k++], position + r); });
      break;
  }
  counters_.rows_deduped += static_cast<int64_t>(before - sel->size());
  return absl::OkStatus();
}

absl::Status CleanWorker::Process(Batch* batch, const std::string& source, int64_t first_row,
                                  uint64_t position, Selection* sel,
                                  std::vector<CsvReject>* rejects) {
  const CleanPlan& plan = run_->plan();
  const CleanSpec& spec = plan.spec();
  const size_t n = batch->num_rows;
  counters_.rows_in += static_cast<int64_t>(n);
  *sel = Selection::All(n);
  dead_.assign(n, 0);
  const int64_t rejected_before = counters_.rows_rejected;
  const auto& steps = plan.steps();
  for (size_t c = 0; c < steps.size(); ++c) {
    const auto& s = steps[c];
    Column* col = &batch->columns[c];
    if (s.fix_text) {
      bad_rows_.clear();
      int64_t bad = FixText(col, spec.invalid_text, &bad_rows_);
      if (spec.invalid_text == BadText::kReplace) counters_.values_repaired += bad;
      for (uint32_t r : bad_rows_) {
        if (dead_[r]) continue;
        const std::string& name = plan.filter_schema()[c].name;
        Reject(*batch, r, first_row, absl::StrCat("invalid text in ", name),
               absl::StrCat("invalid UTF-8 or control character in ", name), rejects);
      }
    }
    if (s.trim) TrimStrings(col);
    if (s.null_if) counters_.values_nulled += NullIfTokens(col, spec.null_if);
    if (s.lower) LowerStrings(col);
    if (s.upper) UpperStrings(col);
    if (s.cast) {
      failures_.clear();
      CastColumn(col, *s.cast, &failures_, &scratch_);
      const std::string& name = plan.filter_schema()[c].name;
      for (auto& f : failures_) {
        if (dead_[f.row]) continue;
        switch (spec.on_error) {
          case OnError::kNull:
            ++counters_.values_cast_nulled;
            break;
          case OnError::kReject:
            Reject(*batch, f.row, first_row,
                   absl::StrCat("cast ", name, " to ", TypeName(*s.cast)),
                   CastReason(name, f.value, *s.cast), rejects);
            break;
          case OnError::kFail:
            return absl::InvalidArgumentError(absl::StrCat(
                source, ":", first_row + f.row, ": ", CastReason(name, f.value, *s.cast),
                " (on_error: fail)"));
        }
      }
    }
  }
  if (counters_.rows_rejected != rejected_before) {
    sel->Retain([&](uint32_t r) { return !dead_[r]; });
  }
  if (run_->filter()) {
    const size_t before = sel->size();
    DE_RETURN_IF_ERROR(run_->filter()->Filter(*batch, sel));
    counters_.rows_filtered += static_cast<int64_t>(before - sel->size());
  }
  if (!plan.dedupe_columns().empty()) DE_RETURN_IF_ERROR(Dedupe(*batch, position, sel));
  if (run_->pass() == CleanRun::Pass::kCollect) return absl::OkStatus();
  if (run_->checks() && !sel->empty()) run_->checks()->Update(*batch, *sel);
  counters_.rows_out += static_cast<int64_t>(sel->size());
  return absl::OkStatus();
}

}  // namespace de::engine
