#include "engine/ops/clean_kernels.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/clean_test_util.h"

namespace de::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Int64s;
using testing::Strings;

// A filter that keeps rows whose int64 column `col` is > 0 (stands in for a BoundExpr).
class PositiveFilter : public BoundExpr {
 public:
  explicit PositiveFilter(int col) : col_(col) {}
  Type result_type() const override { return Type::kBool; }
  absl::Status Filter(const Batch& b, Selection* sel) const override {
    const Column& c = b.columns[col_];
    sel->Retain([&](uint32_t r) {
      if (!c.valid[r]) return false;
      return c.type == Type::kInt32 ? c.i32[r] > 0 : c.i64[r] > 0;
    });
    return absl::OkStatus();
  }
  absl::Status Evaluate(const Batch&, Column*) const override { return absl::OkStatus(); }
  bool MayMatch(const std::vector<std::optional<ColumnRange>>&) const override { return true; }

 private:
  int col_;
};

CleanSpec Parse(const std::string& yaml) {
  auto s = ParseCleanSpec(YAML::Load(yaml));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : CleanSpec{};
}

const Schema kIn = {{"id", Type::kInt64}, {"name", Type::kString}, {"delay", Type::kString}};

Batch Input() {
  Batch b;
  b.columns.push_back(Int64s({1, 2, 3, 4, 5, 6}));
  b.columns.push_back(Strings({" Ann ", "bob", "NA", std::string("x\xff"), " bob", "Cy"}));
  b.columns.push_back(Strings({"10", " 5 ", "abc", "7", "-3", "N/A"}));
  b.num_rows = 6;
  return b;
}

TEST(CleanSpecTest, ParsesEveryOption) {
  CleanSpec s = Parse(R"(
    select: [id, who]
    drop: x
    rename: {name: who}
    cast: {delay: int32}
    on_error: null
    trim: true
    null_if: ["", NA]
    lower: [who]
    invalid_text: reject
    filter: "delay > 0"
    dedupe: {keys: [who], keep: last}
    checks:
      - not_null: [id, who]
      - unique: id
        severity: warn
      - range: {column: delay, min: 0, severity: warn}
      - row_count: {min: 1}
  )");
  EXPECT_THAT(s.select, ElementsAre("id", "who"));
  EXPECT_THAT(s.drop, ElementsAre("x"));
  EXPECT_EQ(s.rename[0].second, "who");
  EXPECT_EQ(s.cast[0].second, Type::kInt32);
  EXPECT_EQ(s.on_error, OnError::kNull);
  EXPECT_TRUE(s.trim_all);
  EXPECT_THAT(s.null_if, ElementsAre("", "NA"));
  EXPECT_EQ(s.invalid_text, BadText::kReject);
  EXPECT_EQ(s.filter, "delay > 0");
  ASSERT_TRUE(s.dedupe);
  EXPECT_TRUE(s.dedupe->keep_last);
  ASSERT_EQ(s.checks.size(), 5u);
  EXPECT_EQ(s.checks[1].Name(), "not_null(who)");
  EXPECT_EQ(s.checks[2].severity, Severity::kWarn);
  EXPECT_EQ(s.checks[3].severity, Severity::kWarn);
  EXPECT_EQ(s.checks[4].severity, Severity::kError);
}

TEST(CleanSpecTest, BadOptionsSayWhat) {
  auto err = [](const std::string& y) {
    return std::string(ParseCleanSpec(YAML::Load(y)).status().message());
  };
  EXPECT_THAT(err("cast: {a: number}"), HasSubstr("cast: column 'a': unknown type 'number'"));
  EXPECT_THAT(err("on_error: skip"), HasSubstr("on_error: 'skip' is not one of"));
  EXPECT_THAT(err("dedupe: {key: [a]}"), HasSubstr("unknown key 'key'"));
  EXPECT_THAT(err("dedupe: {keys: [a], keep: middle}"), HasSubstr("'middle' is not one of first, last"));
  EXPECT_THAT(err("checks: [{not_nul: [a]}]"), HasSubstr("checks[0]: unknown check 'not_nul'"));
  EXPECT_THAT(err("checks: [{range: {column: a}}]"), HasSubstr("needs min or max"));
  EXPECT_THAT(err("checks: [{unique: [a], severity: fatal}]"), HasSubstr("severity 'fatal'"));
  EXPECT_THAT(err("invalid_text: drop"), HasSubstr("invalid_text: 'drop'"));
}

TEST(CleanPlanTest, SchemasAndNeededColumns) {
  CleanSpec s = Parse("{rename: {name: who}, cast: {delay: int32}, select: [who], "
                      "checks: [{not_null: [id]}]}");
  auto plan = CleanPlan::Create(s, kIn, {"delay"});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->filter_schema()[1].name, "who");
  EXPECT_EQ(plan->filter_schema()[2].type, Type::kInt32);
  ASSERT_EQ(plan->output_schema().size(), 1u);
  EXPECT_EQ(plan->output_schema()[0].name, "who");
  EXPECT_THAT(plan->InputColumns(), ElementsAre("id", "name", "delay"));
  auto narrow_s = Parse("{select: [name], trim: [delay]}");
  auto p2 = CleanPlan::Create(narrow_s, kIn, {});
  ASSERT_TRUE(p2.ok());
  EXPECT_THAT(p2->InputColumns(), ElementsAre("name"));
  auto p3 = p2->Narrow({{"name", Type::kString}});
  ASSERT_TRUE(p3.ok()) << p3.status();
  EXPECT_EQ(p3->output_columns(), std::vector<int>{0});
}

TEST(CleanPlanTest, BadColumnsAndCasts) {
  auto msg = [](const std::string& y) {
    auto p = CleanPlan::Create(Parse(y), kIn, {});
    return std::string(p.status().message());
  };
  EXPECT_THAT(msg("{trim: [nme]}"), HasSubstr("trim: no column 'nme' (columns: id, name, delay)"));
  EXPECT_THAT(msg("{rename: {nope: x}}"), HasSubstr("rename: no column 'nope'"));
  EXPECT_THAT(msg("{rename: {name: id}}"), HasSubstr("two columns would be called 'id'"));
  EXPECT_THAT(msg("{cast: {id: date}}"), HasSubstr("column 'id' is int64; cannot cast to date"));
  EXPECT_THAT(msg("{lower: [id]}"), HasSubstr("lower: column 'id' is int64, not string"));
  EXPECT_THAT(msg("{drop: [id, name, delay]}"), HasSubstr("no column is left"));
  EXPECT_THAT(msg("{dedupe: [who]}"), HasSubstr("dedupe: no column 'who'"));
}

struct Ran {
  Selection sel;
  std::vector<CsvReject> rejects;
  CleanCounters counters;
  Batch batch;
};

Ran RunOnce(const std::string& yaml, bool with_filter, int threads = 1) {
  CleanSpec s = Parse(yaml);
  auto plan = CleanPlan::Create(s, kIn, {});
  EXPECT_TRUE(plan.ok()) << plan.status();
  PositiveFilter filter(2);
  CleanRun run(&*plan, with_filter ? &filter : nullptr, nullptr, threads);
  Ran r;
  if (run.two_pass()) {
    CleanWorker w(&run);
    r.batch = Input();
    EXPECT_TRUE(w.Process(&r.batch, "in.csv", 2, 0, &r.sel, &r.rejects).ok());
    EXPECT_TRUE(r.sel.empty());
    EXPECT_TRUE(r.rejects.empty());
    run.set_pass(CleanRun::Pass::kEmit);
  }
  CleanWorker w(&run);
  r.batch = Input();
  absl::Status st = w.Process(&r.batch, "in.csv", 2, 0, &r.sel, &r.rejects);
  EXPECT_TRUE(st.ok()) << st;
  r.counters = w.counters();
  return r;
}

std::vector<uint32_t> Rows(const Selection& s) {
  std::vector<uint32_t> v;
  for (size_t i = 0; i < s.size(); ++i) v.push_back(s[i]);
  return v;
}

TEST(CleanWorkerTest, TrimNullIfCastRejectFilter) {
  Ran r = RunOnce("{trim: true, null_if: [NA, N/A], cast: {delay: int32}}", true);
  // Row 2 'abc' is rejected; row 3 has invalid UTF-8 (replaced); row 4 (-3) and row 5 (null)
  // are filtered.
  EXPECT_THAT(Rows(r.sel), ElementsAre(0u, 1u, 3u));
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "cast delay 'abc' to int32");
  EXPECT_EQ(r.rejects[0].line, 4);
  EXPECT_EQ(r.rejects[0].raw, "3,,");
  EXPECT_EQ(r.counters.rows_in, 6);
  EXPECT_EQ(r.counters.rows_out, 3);
  EXPECT_EQ(r.counters.rows_filtered, 2);
  EXPECT_EQ(r.counters.rows_rejected, 1);
  EXPECT_EQ(r.counters.rejected_by_reason.at("cast delay to int32"), 1);
  EXPECT_EQ(r.counters.values_nulled, 2);
  EXPECT_EQ(r.counters.values_repaired, 1);
  EXPECT_EQ(r.batch.columns[1].str(0), "Ann");
  EXPECT_EQ(r.batch.columns[1].str(3), "x\xEF\xBF\xBD");
  EXPECT_EQ(r.batch.columns[2].i32[1], 5);
}

TEST(CleanWorkerTest, OnErrorNullAndFailAndInvalidTextReject) {
  Ran r = RunOnce("{trim: true, cast: {delay: int32}, on_error: null, invalid_text: reject}", false);
  EXPECT_THAT(Rows(r.sel), ElementsAre(0u, 1u, 2u, 4u, 5u));
  EXPECT_EQ(r.counters.values_cast_nulled, 2);  // abc, N/A (row 3 was rejected first)
  EXPECT_EQ(r.counters.rejected_by_reason.at("invalid text in name"), 1);
  CleanSpec s = Parse("{cast: {delay: int32}, on_error: fail}");
  auto plan = CleanPlan::Create(s, kIn, {});
  CleanRun run(&*plan, nullptr, nullptr, 1);
  CleanWorker w(&run);
  Batch b = Input();
  Selection sel;
  std::vector<CsvReject> rej;
  absl::Status st = w.Process(&b, "in.csv", 2, 0, &sel, &rej);
  EXPECT_THAT(st.message(), HasSubstr("in.csv:3: cast delay ' 5 ' to int32 (on_error: fail)"));
}

TEST(CleanWorkerTest, DedupeFirstAndLast) {
  Ran first = RunOnce("{trim: true, lower: [name], dedupe: {keys: [name]}}", false);
  EXPECT_THAT(Rows(first.sel), ElementsAre(0u, 1u, 2u, 3u, 5u));  // second 'bob' dropped
  EXPECT_EQ(first.counters.rows_deduped, 1);
  Ran last = RunOnce("{trim: true, dedupe: {keys: [name], keep: last}}", false);
  EXPECT_THAT(Rows(last.sel), ElementsAre(0u, 2u, 3u, 4u, 5u));   // the later 'bob' kept
  Ran mt = RunOnce("{trim: true, dedupe: {keys: [name]}}", false, 2);  // two passes
  EXPECT_THAT(Rows(mt.sel), ElementsAre(0u, 1u, 2u, 3u, 5u));
}

TEST(CleanWorkerTest, DedupeAcrossThreadsKeepsOneRowPerKey) {
  CleanSpec s = Parse("{dedupe: {keys: [id]}}");
  auto plan = CleanPlan::Create(s, kIn, {});
  CleanRun run(&*plan, nullptr, nullptr, 1);
  std::atomic<int64_t> kept{0};
  auto work = [&] {
    CleanWorker w(&run);
    for (int i = 0; i < 200; ++i) {
      Batch b = Input();
      Selection sel;
      std::vector<CsvReject> rej;
      ASSERT_TRUE(w.Process(&b, "x", 1, 0, &sel, &rej).ok());
      kept += static_cast<int64_t>(sel.size());
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  EXPECT_EQ(kept.load(), 6);
}

TEST(CleanWorkerTest, ChecksSeeOnlyWrittenRows) {
  CleanSpec s = Parse("{trim: true, cast: {delay: int32}, checks: [{not_null: [delay]}]}");
  auto plan = CleanPlan::Create(s, kIn, {});
  auto checks = CheckRunner::Create(s.checks, plan->filter_schema());
  ASSERT_TRUE(checks.ok());
  PositiveFilter filter(2);
  CleanRun run(&*plan, &filter, checks->get(), 1);
  CleanWorker w(&run);
  Batch b = Input();
  Selection sel;
  std::vector<CsvReject> rej;
  ASSERT_TRUE(w.Process(&b, "x", 1, 0, &sel, &rej).ok());
  EXPECT_EQ((*checks)->Finish(w.counters().rows_out)[0].failing_rows, 0);
}

}  // namespace
}  // namespace de::engine
