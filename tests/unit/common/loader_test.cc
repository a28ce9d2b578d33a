#include "common/dag/loader.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/dag/template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

std::string ReadTestdata(const std::string& rel) {
  const char* dir = std::getenv("DE_TESTDATA");
  std::string base = dir != nullptr ? dir : "tests/testdata";
  std::ifstream f(base + "/" + rel);
  EXPECT_TRUE(f.good()) << "cannot open " << base << "/" << rel;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// All diagnostics of loading `yaml` as "t.yaml", as "file:line:col: message" strings.
std::vector<std::string> Errors(const std::string& yaml) {
  LoadResult r = LoadDag(yaml, "t.yaml");
  EXPECT_EQ(r.ok(), !r.dag.has_value() ? false : true);
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.ToString());
  return out;
}

DagSpec MustLoad(const std::string& yaml) {
  LoadResult r = LoadDag(yaml, "t.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.dag) return DagSpec{};
  return *r.dag;
}

std::vector<std::string> TaskIds(const DagSpec& d) {
  std::vector<std::string> ids;
  for (const auto& t : d.tasks) ids.push_back(t.id);
  return ids;
}

TEST(LoaderTest, DesignDailyExample) {
  std::string text = ReadTestdata("dags/flights_daily.yaml");
  LoadResult r = LoadDag(text, "flights_daily.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const DagSpec& d = *r.dag;
  EXPECT_EQ(d.id, "flights_daily");
  EXPECT_EQ(d.description, "Daily flights: CSV drop -> Parquet -> clean -> daily stats");
  EXPECT_EQ(d.schedule, "0 3 * * *");
  EXPECT_EQ(d.timezone, "UTC");
  EXPECT_EQ(d.start_date, At("2024-01-01T00:00:00Z"));
  EXPECT_EQ(d.end_date, std::nullopt);
  EXPECT_TRUE(d.catchup);
  EXPECT_EQ(d.max_active_runs, 4);
  EXPECT_EQ(d.max_active_tasks, 64);
  EXPECT_EQ(d.params, (std::map<std::string, std::string>{{"raw_dir", "data/raw"}}));
  ASSERT_TRUE(d.sla.has_value());
  EXPECT_EQ(d.sla->within, absl::Hours(2));
  EXPECT_EQ(d.sla->after, dag::DeadlineAnchor::kIntervalEnd);
  EXPECT_EQ(d.source, "flights_daily.yaml");
  EXPECT_EQ(d.yaml, text);
  ASSERT_EQ(d.alerts.size(), 2u);
  EXPECT_THAT(d.alerts[0].on, ElementsAre("failure", "deadline_miss", "wait_timeout"));
  EXPECT_EQ(d.alerts[0].webhook, "http://127.0.0.1:9099/hooks/de");
  EXPECT_EQ(d.alerts[0].channel(), "webhook");
  EXPECT_THAT(d.alerts[0].command, IsEmpty());
  EXPECT_EQ(d.alerts[0].loc.line, 12);
  EXPECT_EQ(d.alerts[0].loc.column, 5);
  EXPECT_THAT(d.alerts[1].on, ElementsAre("failure"));
  EXPECT_THAT(d.alerts[1].command,
              ElementsAre("logger", "-t", "de", "{{ dag }} {{ run_id }} failed"));
  EXPECT_THAT(d.wait_for, IsEmpty());
  ASSERT_THAT(TaskIds(d), ElementsAre("convert", "clean", "daily_stats"));
  for (const auto& t : d.tasks) {
    EXPECT_EQ(t.retry.retries, 2) << t.id;
    EXPECT_EQ(t.retry.retry_delay, absl::Seconds(30));
    EXPECT_EQ(t.retry.backoff, Backoff::kExponential);
    EXPECT_EQ(t.retry.max_retry_delay, absl::Hours(1));
    EXPECT_EQ(t.timeout, absl::Hours(1));
    EXPECT_EQ(t.pool, "default");
    EXPECT_EQ(t.priority, 0);
    EXPECT_FALSE(t.depends_on_past);
  }
  const TaskSpec* convert = d.FindTask("convert");
  ASSERT_NE(convert, nullptr);
  EXPECT_EQ(convert->type, "csv_to_parquet");
  EXPECT_THAT(convert->needs, IsEmpty());
  EXPECT_EQ(convert->loc.line, 17);
  EXPECT_EQ(convert->loc.column, 5);
  EXPECT_EQ(convert->with["input"].Scalar(), "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz");
  EXPECT_EQ(convert->with["compression"].Scalar(), "zstd");
  const TaskSpec* clean = d.FindTask("clean");
  EXPECT_THAT(clean->needs, ElementsAre("convert"));
  EXPECT_EQ(clean->with["dedupe"]["keys"][2].Scalar(), "destination");
  EXPECT_EQ(clean->with["null_if"].size(), 3u);
  EXPECT_EQ(d.FindTask("daily_stats")->with["metrics"]["avg_delay"].Scalar(), "avg(delay)");
  EXPECT_EQ(d.FindTask("nope"), nullptr);

  // The task's `with` renders for a run.
  TemplateContext ctx = MakeTemplateContext(d.id, "r1", "convert", 1, At("2024-01-05T03:00:00Z"),
                                            At("2024-01-05T03:00:00Z"), At("2024-01-06T03:00:00Z"),
                                            absl::UTCTimeZone(), d.params);
  auto rendered = RenderYaml(convert->with, ctx);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  YAML::Node back = YAML::Load(*rendered);
  EXPECT_EQ(back["input"].as<std::string>(), "data/raw/flights-2024-01-05.csv.gz");
  EXPECT_EQ(back["output"].as<std::string>(), "lake/flights/dt=2024-01-05");
}

TEST(LoaderTest, DesignMonthlyExample) {
  LoadResult r = LoadDag(ReadTestdata("dags/flights_monthly.yaml"), "flights_monthly.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const DagSpec& d = *r.dag;
  EXPECT_EQ(d.id, "flights_monthly");
  EXPECT_EQ(d.schedule, "@monthly");
  ASSERT_EQ(d.wait_for.size(), 2u);
  EXPECT_EQ(d.wait_for[0].dag, "flights_daily");
  EXPECT_EQ(d.wait_for[0].task, "daily_stats");
  EXPECT_TRUE(d.wait_for[0].window_is_interval);
  EXPECT_EQ(d.wait_for[0].timeout, absl::Hours(12));
  EXPECT_EQ(d.wait_for[0].loc.line, 5);
  EXPECT_EQ(d.wait_for[1].task, "");
  EXPECT_FALSE(d.wait_for[1].window_is_interval);
  EXPECT_EQ(d.wait_for[1].window_from, absl::Hours(-24 * 7));
  EXPECT_EQ(d.wait_for[1].window_to, absl::ZeroDuration());
  EXPECT_EQ(d.wait_for[1].timeout, std::nullopt);
  ASSERT_EQ(d.tasks.size(), 1u);
  EXPECT_EQ(d.tasks[0].with["input"]["from"].Scalar(), "{{ data_interval_start }}");
  // Defaults without a defaults: block.
  EXPECT_EQ(d.tasks[0].retry.retries, 0);
  EXPECT_EQ(d.tasks[0].retry.retry_delay, absl::Seconds(30));
  EXPECT_EQ(d.tasks[0].retry.backoff, Backoff::kFixed);
  EXPECT_EQ(d.tasks[0].timeout, std::nullopt);
  EXPECT_EQ(d.max_active_runs, 16);
  EXPECT_TRUE(d.alerts.empty());
}

TEST(LoaderTest, ManualDagAndTaskOverrides) {
  DagSpec d = MustLoad(R"(dag: manual_one
schedule: null
timezone: Europe/Berlin
start_date: 2024-03-31
end_date: 2024-06-01T12:00:00Z
catchup: false
max_active_tasks: 8
params: { n: 3, flag: true, empty: }
defaults: { retries: 1, pool: io, priority: 5, max_retry_delay: 10m }
tasks:
  - id: run-it
    type: shell
    retries: 4
    retry_delay: 1m30s
    retry_backoff: fixed
    timeout: 500ms
    pool: cpu
    priority: -2
    depends_on_past: true
    with: { command: "echo {{ params.n }} {{ ds_nodash }}" }
  - id: after
    type: noop
    needs: run-it
)");
  EXPECT_EQ(d.schedule, "");
  EXPECT_EQ(d.timezone, "Europe/Berlin");
  EXPECT_EQ(d.start_date, At("2024-03-31T00:00:00+01:00"));  // a date: midnight in the zone
  EXPECT_EQ(d.end_date, At("2024-06-01T12:00:00Z"));
  EXPECT_FALSE(d.catchup);
  EXPECT_EQ(d.max_active_tasks, 8);
  EXPECT_EQ(d.params,
            (std::map<std::string, std::string>{{"n", "3"}, {"flag", "true"}, {"empty", ""}}));
  const TaskSpec& t = d.tasks[0];
  EXPECT_EQ(t.id, "run-it");
  EXPECT_EQ(t.retry.retries, 4);
  EXPECT_EQ(t.retry.retry_delay, absl::Seconds(90));
  EXPECT_EQ(t.retry.backoff, Backoff::kFixed);
  EXPECT_EQ(t.retry.max_retry_delay, absl::Minutes(10));
  EXPECT_EQ(t.timeout, absl::Milliseconds(500));
  EXPECT_EQ(t.pool, "cpu");
  EXPECT_EQ(t.priority, -2);
  EXPECT_TRUE(t.depends_on_past);
  EXPECT_EQ(d.tasks[1].pool, "io");
  EXPECT_EQ(d.tasks[1].priority, 5);
  EXPECT_EQ(d.tasks[1].retry.retries, 1);
  EXPECT_THAT(d.tasks[1].needs, ElementsAre("run-it"));
  EXPECT_TRUE(d.tasks[1].with.IsNull());
}

TEST(LoaderTest, TopologicalOrderIsStable) {
  DagSpec d = MustLoad(R"(dag: topo
tasks:
  - {id: report, type: noop, needs: [join]}
  - {id: b, type: noop, needs: [a]}
  - {id: join, type: noop, needs: [b, c, a]}
  - {id: a, type: noop}
  - {id: c, type: noop}
  - {id: z, type: noop}
)");
  // Ready tasks go in file order: a, c, z are ready at the start; b after a; join after b and c.
  EXPECT_THAT(TaskIds(d), ElementsAre("a", "b", "c", "join", "report", "z"));
}

TEST(LoaderTest, LargeChainLoads) {
  std::string yaml = "dag: chain\ntasks:\n";
  for (int i = 2999; i >= 0; --i) {
    yaml += "  - {id: t" + std::to_string(i) + ", type: noop" +
            (i > 0 ? ", needs: [t" + std::to_string(i - 1) + "]" : std::string()) + "}\n";
  }
  DagSpec d = MustLoad(yaml);
  ASSERT_EQ(d.tasks.size(), 3000u);
  EXPECT_EQ(d.tasks.front().id, "t0");
  EXPECT_EQ(d.tasks.back().id, "t2999");
}

TEST(LoaderTest, SyntaxError) {
  EXPECT_THAT(Errors("dag: x\ntasks: [a\n"),
              ElementsAre("t.yaml:3:1: YAML syntax error: end of sequence flow not found"));
  EXPECT_THAT(
      Errors("dag: x\ntasks:\n  - {id: a, type: noop, with: {out: dt={{ ds }}}}\n"),
      ElementsAre("t.yaml:3:40: YAML syntax error: end of map flow not found (hint: quote values "
                  "that contain {{ }} templates, e.g. \"dt={{ ds }}\")"));
}

TEST(LoaderTest, EmptyAndNonMappingFiles) {
  EXPECT_THAT(Errors(""),
              ElementsAre("t.yaml: file is empty (expected a mapping with 'dag' and 'tasks')"));
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre("t.yaml:1:1: the top level must be a mapping with 'dag', 'tasks', ..."));
}

TEST(LoaderTest, UnknownKeysSuggest) {
  EXPECT_THAT(Errors(R"(dag: x
schedual: "@daily"
defaults: { retry: 1 }
alerts:
  - on: [failure]
    webhok: http://x
wait_for:
  - dag: y
    windw: interval
tasks:
  - id: a
    type: noop
    retires: 3
    frobnicate: 1
)"),
              ElementsAre("t.yaml:2:1: unknown top-level key 'schedual' (did you mean 'schedule'?)",
                          "t.yaml:3:13: unknown defaults key 'retry' (did you mean 'retries'?)",
                          "t.yaml:5:5: alert needs a channel: webhook, slack, pagerduty or command",
                          "t.yaml:6:5: unknown alert key 'webhok' (did you mean 'webhook'?)",
                          "t.yaml:9:5: unknown wait_for key 'windw' (did you mean 'window'?)",
                          "t.yaml:13:5: unknown task key 'retires' (did you mean 'retries'?)",
                          "t.yaml:14:5: unknown task key 'frobnicate'"));
}

TEST(LoaderTest, DuplicateKey) {
  EXPECT_THAT(Errors("dag: x\ntasks:\n  - id: a\n    type: noop\n    id: b\n"),
              ElementsAre("t.yaml:5:5: duplicate key 'id' (first at line 3)"));
}

TEST(LoaderTest, WrongTypes) {
  EXPECT_THAT(
      Errors(R"(dag: x
max_active_runs: 0
max_active_tasks: many
catchup: maybe
sla: 0s
params: [a, b]
defaults: { retries: -1, retry_backoff: exponentail, priority: high, pool: "" }
tasks:
  - id: a
    type: noop
    depends_on_past: 2
    timeout: -5m
    retry_delay: [1]
    with: [x]
)"),
      ElementsAre("t.yaml:2:18: max_active_runs must be a positive integer",
                  "t.yaml:3:19: max_active_tasks must be a positive integer",
                  "t.yaml:4:10: catchup must be true or false", "t.yaml:5:6: sla must be positive",
                  "t.yaml:6:9: params must be a mapping of name: value",
                  "t.yaml:7:22: retries must be a non-negative integer",
                  "t.yaml:7:41: retry_backoff must be 'fixed' or 'exponential' (did you "
                  "mean 'exponential'?)",
                  "t.yaml:7:64: priority must be an integer", "t.yaml:7:76: pool must not be empty",
                  "t.yaml:11:22: depends_on_past must be true or false",
                  "t.yaml:12:14: timeout must be positive",
                  "t.yaml:13:18: retry_delay must be a duration like 30s, 5m, 1h",
                  "t.yaml:14:11: with must be a mapping"));
}

TEST(LoaderTest, Ids) {
  EXPECT_THAT(Errors(R"(dag: Flights-Daily
tasks:
  - id: Convert
    type: noop
  - id: ok-task_1
    type: noop
  - type: noop
)"),
              ElementsAre("t.yaml:1:6: dag id 'Flights-Daily' must match [a-z0-9_]+",
                          "t.yaml:3:9: task id 'Convert' must match [a-z0-9_-]+",
                          "t.yaml:7:5: task is missing 'id'"));
  EXPECT_THAT(Errors("tasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:1:1: missing required key 'dag' (the DAG id)"));
}

TEST(LoaderTest, DuplicateTaskId) {
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
  - id: a
    type: noop
)"),
              ElementsAre("t.yaml:7:9: duplicate task id 'a' (first defined at line 3)"));
}

TEST(LoaderTest, UnknownNeeds) {
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: convert
    type: noop
  - id: clean
    type: noop
    needs: [convrt, zzz]
)"),
              ElementsAre("t.yaml:7:13: task 'clean' needs unknown task 'convrt' (did you mean "
                          "'convert'?)",
                          "t.yaml:7:21: task 'clean' needs unknown task 'zzz'"));
}

TEST(LoaderTest, Cycles) {
  // a -> b means b needs a (a runs first).
  EXPECT_THAT(
      Errors(R"(dag: x
tasks:
  - id: start
    type: noop
  - id: a
    type: noop
    needs: [start, c]
  - id: b
    type: noop
    needs: [a]
  - id: c
    type: noop
    needs: [b]
  - id: after
    type: noop
    needs: [c]
  - id: self
    type: noop
    needs: [self]
)"),
      ElementsAre("t.yaml:5:9: cycle: a -> b -> c -> a", "t.yaml:17:9: cycle: self -> self"));
}

TEST(LoaderTest, TaskTypesAndRequiredWith) {
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: a
    type: shel
  - id: b
    type: shell
  - id: c
    type: shell
    with: { command: {x: 1} }
  - id: d
    type: csv_to_parquet
    with: { input: in.csv }
  - id: e
    type: clean
    with: { output: out }
  - id: f
    type: aggregate
  - id: g
    type: spark
  - id: h
    type: noop
  - id: i
)"),
              ElementsAre("t.yaml:4:11: unknown task type 'shel' (did you mean 'shell'?); known: "
                          "shell, noop, csv_to_parquet, clean, aggregate",
                          "t.yaml:5:5: task 'b' (shell) needs 'with.command'",
                          "t.yaml:9:22: with.command must be a string or a non-empty list of "
                          "strings",
                          "t.yaml:12:11: task 'd' (csv_to_parquet) needs 'with.output'",
                          "t.yaml:15:11: task 'e' (clean) needs 'with.input'",
                          "t.yaml:16:5: task 'f' (aggregate) needs 'with.input'",
                          "t.yaml:16:5: task 'f' (aggregate) needs 'with.output'",
                          "t.yaml:16:5: task 'f' (aggregate) needs 'with.metrics'",
                          "t.yaml:19:11: unknown task type 'spark'; known: shell, noop, "
                          "csv_to_parquet, clean, aggregate",
                          "t.yaml:22:5: task 'i' is missing 'type' (one of shell, noop, "
                          "csv_to_parquet, clean, aggregate)"));
  EXPECT_THAT(Errors("dag: x\ntasks: [{id: a, type: shell, with: {command: [ls, -l]}}]\n"),
              IsEmpty());
}

TEST(LoaderTest, ScheduleTimezoneAndDates) {
  EXPECT_THAT(Errors(R"(dag: x
schedule: "0 25 * * *"
timezone: Mars/Olympus
start_date: 2024-13-01
end_date: tomorrow
tasks: [{id: a, type: noop}]
)"),
              ElementsAre("t.yaml:2:11: invalid schedule '0 25 * * *': field 2 (hour): 25 is out "
                          "of range 0-23",
                          "t.yaml:3:11: unknown timezone 'Mars/Olympus'",
                          "t.yaml:4:13: start_date: invalid date '2024-13-01' (expected "
                          "YYYY-MM-DD or an ISO 8601 timestamp like 2024-01-01T00:00:00Z)",
                          "t.yaml:5:11: end_date: invalid date 'tomorrow' (expected YYYY-MM-DD "
                          "or an ISO 8601 timestamp like 2024-01-01T00:00:00Z)"));
  EXPECT_THAT(Errors(R"(dag: x
schedule: "@daily"
start_date: 2024-02-01
end_date: 2024-01-31
tasks: [{id: a, type: noop}]
)"),
              ElementsAre("t.yaml:4:11: end_date 2024-01-31 is before start_date 2024-02-01"));
  EXPECT_THAT(Errors("dag: x\nschedule: '@daily'\ntasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:11: a scheduled DAG needs start_date (the first data "
                          "interval starts there)"));
  EXPECT_THAT(Errors("dag: x\nstart_date: 2024-02-30\ntasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:13: start_date: invalid date '2024-02-30' (expected "
                          "YYYY-MM-DD or an ISO 8601 timestamp like 2024-01-01T00:00:00Z)"));
}

TEST(LoaderTest, EverySchedules) {
  EXPECT_THAT(Errors("dag: x\nschedule: '@every 15m'\ntasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:11: a scheduled DAG needs start_date (@every intervals are "
                          "counted from it)"));
  EXPECT_THAT(Errors("dag: x\nschedule: '@every 15q'\nstart_date: 2024-01-01\n"
                     "tasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:11: invalid schedule '@every 15q': @every ' 15q': unknown "
                          "unit 'q' (use d, h, m or s)"));
  DagSpec d = MustLoad("dag: x\nschedule: '@every 2h30m'\nstart_date: 2024-01-01\n"
                       "tasks: [{id: a, type: noop}]\n");
  EXPECT_EQ(d.schedule, "@every 2h30m");
}

TEST(LoaderTest, DateForms) {
  DagSpec d = MustLoad(R"(dag: x
timezone: America/New_York
start_date: 2024-01-01T06:30:00
end_date: "2024-02-01 00:00:00+02:00"
tasks: [{id: a, type: noop}]
)");
  EXPECT_EQ(d.start_date, At("2024-01-01T06:30:00-05:00"));
  EXPECT_EQ(d.end_date, At("2024-01-31T22:00:00Z"));
}

TEST(LoaderTest, Durations) {
  EXPECT_THAT(Errors(R"(dag: x
sla: 30
defaults: { retry_delay: 5x, timeout: 1h30 }
wait_for:
  - dag: y
    window: { from: -7, to: 0d }
    timeout: soon
tasks: [{id: a, type: noop}]
)"),
              ElementsAre("t.yaml:2:6: sla: invalid duration '30': a number needs a unit, e.g. "
                          "'30s' (units: ms, s, m, h, d, w)",
                          "t.yaml:3:26: retry_delay: invalid duration '5x': unknown unit 'x' "
                          "(use ms, s, m, h, d or w)",
                          "t.yaml:3:39: timeout: invalid duration '1h30': a number needs a unit "
                          "(ms, s, m, h, d, w)",
                          "t.yaml:6:21: window.from: invalid duration '-7': a number needs a "
                          "unit, e.g. '-7s' (units: ms, s, m, h, d, w)",
                          "t.yaml:7:14: wait_for.timeout: invalid duration 'soon': expected e.g. "
                          "30s, 5m, 1h30m, 500ms, 2d, -7d"));
}

TEST(LoaderTest, ParseDuration) {
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("1h"), absl::Hours(1));
  EXPECT_EQ(*ParseDuration("2d"), absl::Hours(48));
  EXPECT_EQ(*ParseDuration("1w"), absl::Hours(168));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("-7d"), absl::Hours(-168));
  EXPECT_EQ(*ParseDuration("0d"), absl::ZeroDuration());
  EXPECT_EQ(ParseDuration("30").status().message(),
            "invalid duration '30': a number needs a unit, e.g. '30s' (units: ms, s, m, h, d, w)");
  EXPECT_EQ(ParseDuration("").status().message(),
            "invalid duration '': empty (expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d)");
  EXPECT_FALSE(ParseDuration("1.5h").ok());
  EXPECT_FALSE(ParseDuration("h").ok());
  EXPECT_FALSE(ParseDuration("-").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999d").ok());
}

TEST(LoaderTest, Templates) {
  EXPECT_THAT(Errors(R"(dag: x
params:
  raw_dir: data/raw
  out: "{{ params.raw_dir }}/{{ dss }}"
alerts:
  - on: [failure, falure]
    command: [echo, "{{ params.nope }}"]
tasks:
  - id: a
    type: shell
    with:
      command: [echo, "{{ ds }}", "{{ run }}"]
      env: { X: "{{ params.raw_dri }}" }
      dir: "{{ ds"
)"),
              ElementsAre("t.yaml:4:8: unknown template variable 'dss' (did you mean 'ds'?)",
                          "t.yaml:6:19: unknown alert event 'falure' (did you mean 'failure'?); "
                          "known: failure, task_failure, retry, success, recovered, deadline_miss, "
                          "wait_timeout, lease_lost",
                          "t.yaml:7:21: unknown param 'nope' in '{{ params.nope }}'",
                          "t.yaml:12:35: unknown template variable 'run' (did you mean "
                          "'run_id'?)",
                          "t.yaml:13:17: unknown param 'raw_dri' in '{{ params.raw_dri }}' (did "
                          "you mean 'params.raw_dir'?)",
                          "t.yaml:14:7: unknown shell parameter 'with.dir'; known: command, "
                          "args, env, cwd",
                          "t.yaml:14:12: unterminated '{{' at offset 0 (missing '}}')"));
}

TEST(LoaderTest, AlertsAndWaitFor) {
  EXPECT_THAT(Errors(R"(dag: x
alerts:
  - webhook: http://x
  - on: failure
    command: []
wait_for:
  - task: Bad
    window: weekly
tasks: [{id: a, type: noop}]
)"),
              ElementsAre("t.yaml:3:5: alert is missing 'on' (a list of failure, task_failure, "
                          "retry, success, recovered, deadline_miss, wait_timeout, lease_lost)",
                          "t.yaml:5:14: alert command must be a non-empty list (argv)",
                          "t.yaml:7:5: wait_for entry is missing 'dag' (or 'path' or 'glob' for "
                          "data)",
                          "t.yaml:7:11: task id 'Bad' must match [a-z0-9_-]+",
                          "t.yaml:8:13: window must be 'interval' or {from: -7d, to: 0d}"));
}

TEST(LoaderTest, AlertChannels) {
  DagSpec d = MustLoad(R"(dag: x
alerts:
  - on: [failure, recovered]
    slack: "${SLACK_URL}"
  - on: [failure, recovered, failure]
    pagerduty: { routing_key: "${PD_KEY}", url: "http://127.0.0.1:1/v2/enqueue" }
  - on: [task_failure, retry, lease_lost]
    webhook: { url: "http://127.0.0.1:2/h", headers: { Authorization: "Bearer ${TOKEN}" } }
  - on: [deadline_miss, wait_timeout, success]
    command: [notify, "{{ dag }}", "{{ run_id }}"]
tasks: [{id: a, type: noop}]
)");
  ASSERT_EQ(d.alerts.size(), 4u);
  EXPECT_EQ(d.alerts[0].channel(), "slack");
  EXPECT_EQ(d.alerts[0].slack, "${SLACK_URL}");
  EXPECT_EQ(d.alerts[1].channel(), "pagerduty");
  EXPECT_THAT(d.alerts[1].on, ElementsAre("failure", "recovered"));   // duplicates dropped
  EXPECT_EQ(d.alerts[1].pagerduty_routing_key, "${PD_KEY}");
  EXPECT_EQ(d.alerts[1].pagerduty_url, "http://127.0.0.1:1/v2/enqueue");
  EXPECT_EQ(d.alerts[2].channel(), "webhook");
  EXPECT_EQ(d.alerts[2].webhook, "http://127.0.0.1:2/h");
  EXPECT_EQ(d.alerts[2].headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer ${TOKEN}"}}));
  EXPECT_EQ(d.alerts[3].channel(), "command");
  EXPECT_THAT(d.alerts[3].command, ElementsAre("notify", "{{ dag }}", "{{ run_id }}"));
}

TEST(LoaderTest, AlertOldSpellingsNameTheNewOnes) {
  EXPECT_THAT(Errors("dag: x\nalerts: [{on: [sla_miss], webhook: 'http://h'}]\n"
                     "tasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:16: alert event 'sla_miss' was renamed: write "
                          "'deadline_miss'"));
  EXPECT_THAT(Errors("dag: x\nalerts: [{on: success, webhook: 'http://h', format: slack}]\n"
                     "tasks: [{id: a, type: noop}]\n"),
              ElementsAre("t.yaml:2:53: alert 'format' was replaced: write 'slack: URL' instead "
                          "of 'webhook: URL' with 'format: slack'"));
}

TEST(LoaderTest, AlertChannelErrors) {
  EXPECT_THAT(Errors(R"(dag: x
alerts:
  - on: [failure]
  - on: [failure]
    slack: http://s
    webhook: http://w
  - on: [failure]
    pagerduty: { url: "http://p" }
  - on: [failure]
    pagerduty: KEY
  - on: [failure]
    webhook: { headers: { "Bad Name": x } }
  - on: [failure]
    webhook: { url: http://w, header: {} }
  - on: [failure]
    slack: [a]
tasks: [{id: a, type: noop}]
)"),
              ElementsAre("t.yaml:3:5: alert needs a channel: webhook, slack, pagerduty or command",
                          "t.yaml:4:5: alert has more than one channel; write one alert entry per "
                          "channel (webhook, slack, pagerduty or command)",
                          "t.yaml:8:16: pagerduty needs a routing_key (e.g. \"${PD_ROUTING_KEY}\")",
                          "t.yaml:10:16: pagerduty must be a mapping {routing_key: ..., url: ...}",
                          "t.yaml:12:14: webhook needs a url",
                          "t.yaml:12:27: invalid header name 'Bad Name'",
                          "t.yaml:14:31: unknown webhook key 'header' (did you mean 'headers'?)",
                          "t.yaml:16:12: slack (an incoming-webhook URL) must be a string",
                          "t.yaml:16:12: slack must be an incoming-webhook URL"));
}

TEST(LoaderTest, AlertsFile) {
  AlertsLoadResult r = LoadAlertsFile(R"(- on: [failure]
  webhook: http://127.0.0.1:9/h
- on: [recovered]
  command: [echo, "{{ dag }}"]
)",
                                      "alerts.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_EQ(r.alerts[0].webhook, "http://127.0.0.1:9/h");
  EXPECT_THAT(r.alerts[1].command, ElementsAre("echo", "{{ dag }}"));
  AlertsLoadResult bad = LoadAlertsFile("- on: [sla_miss]\n  slack: http://s\n", "a.yaml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].ToString(),
            "a.yaml:1:8: alert event 'sla_miss' was renamed: write 'deadline_miss'");
  EXPECT_TRUE(bad.alerts.empty());
  AlertsLoadResult not_list = LoadAlertsFile("on: failure\n", "a.yaml");
  ASSERT_EQ(not_list.errors.size(), 1u);
  EXPECT_EQ(not_list.errors[0].ToString(),
            "a.yaml:1:1: an alerts file must be a list of alerts (each with 'on' and a channel)");
}

TEST(LoaderTest, TasksMustBeNonEmpty) {
  EXPECT_THAT(Errors("dag: x\n"), ElementsAre("t.yaml:1:1: tasks must be a non-empty list"));
  EXPECT_THAT(Errors("dag: x\ntasks: []\n"),
              ElementsAre("t.yaml:2:8: tasks must be a non-empty list"));
  EXPECT_THAT(Errors("dag: x\ntasks: {a: 1}\n"),
              ElementsAre("t.yaml:2:8: tasks must be a non-empty list"));
}

TEST(LoaderTest, AllErrorsAreCollectedInFileOrder) {
  std::vector<std::string> errs = Errors(R"(dag: BAD
schedule: "@often"
tasks:
  - id: a
    type: shel
    needs: [b]
  - id: b
    type: noop
    needs: [a]
    retires: 1
)");
  EXPECT_THAT(errs,
              ElementsAre("t.yaml:1:6: dag id 'BAD' must match [a-z0-9_]+",
                          "t.yaml:2:11: invalid schedule '@often': unknown macro '@often' (use "
                          "@hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, @annually or "
                          "@every DURATION)",
                          "t.yaml:2:11: a scheduled DAG needs start_date (the first data interval "
                          "starts there)",
                          "t.yaml:4:9: cycle: a -> b -> a",
                          "t.yaml:5:11: unknown task type 'shel' (did you mean 'shell'?); known: "
                          "shell, noop, csv_to_parquet, clean, aggregate",
                          "t.yaml:10:5: unknown task key 'retires' (did you mean 'retries'?)"));
}

TEST(LoaderTest, InvalidTestdataFileReportsEverything) {
  LoadResult r = LoadDag(ReadTestdata("dags/invalid_many_errors.yaml"), "invalid.yaml");
  std::vector<std::string> errs;
  for (const auto& e : r.errors) errs.push_back(e.ToString());
  EXPECT_FALSE(r.dag.has_value());
  EXPECT_THAT(errs,
              ElementsAre("invalid.yaml:3:11: invalid schedule '0 3 * * MOON': field 5 "
                          "(day-of-week): 'MOON' is not a number or a name",
                          "invalid.yaml:5:18: max_active_runs must be a positive integer",
                          "invalid.yaml:8:11: unknown task type 'shel' (did you mean 'shell'?); "
                          "known: shell, noop, csv_to_parquet, clean, aggregate",
                          "invalid.yaml:12:22: task 'load' needs unknown task 'extrct' (did you "
                          "mean 'extract'?)",
                          "invalid.yaml:13:5: unknown task key 'retires' (did you mean 'retries'?)",
                          "invalid.yaml:14:9: cycle: a -> b -> a"));
}

TEST(LoaderTest, TabIndentationIsASyntaxError) {
  std::vector<std::string> errs = Errors("dag: x\ntasks:\n\t- id: a\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], ::testing::StartsWith("t.yaml:3:2: YAML syntax error: "));
}

TEST(LoaderTest, DiagnosticToString) {
  EXPECT_EQ((Diagnostic{"f.yaml", 3, 7, "bad"}).ToString(), "f.yaml:3:7: bad");
  EXPECT_EQ((Diagnostic{"f.yaml", 0, 0, "bad"}).ToString(), "f.yaml: bad");
}

}  // namespace
}  // namespace de::dag

namespace de::dag {
namespace {

TEST(LoaderDeadlineTest, SlaAndTaskDeadlineForms) {
  LoadResult r = LoadDag(R"(
dag: d
sla: { after: logical_date, within: 26h }
tasks:
  - id: a
    type: noop
    deadline: 30m
  - id: b
    type: noop
    deadline: { after: run_start, within: 1h }
)", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_TRUE(r.dag->sla.has_value());
  EXPECT_EQ(r.dag->sla->after, DeadlineAnchor::kLogicalDate);
  EXPECT_EQ(r.dag->sla->within, absl::Hours(26));
  ASSERT_TRUE(r.dag->tasks[0].deadline.has_value());
  EXPECT_EQ(r.dag->tasks[0].deadline->after, DeadlineAnchor::kIntervalEnd);
  EXPECT_EQ(r.dag->tasks[0].deadline->within, absl::Minutes(30));
  EXPECT_EQ(r.dag->tasks[1].deadline->after, DeadlineAnchor::kRunStart);
}

TEST(LoaderDeadlineTest, BadDeadlinesNameWhatIsWrong) {
  LoadResult r = LoadDag(R"(
dag: d
sla: { after: midnight, within: 2h }
tasks:
  - id: a
    type: noop
    deadline: { after: run_start }
  - id: b
    type: noop
    deadline: { within: 0s, when: now }
)", "t.yaml");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& e : r.errors) all += e.ToString() + "\n";
  EXPECT_NE(all.find("sla.after must be interval_end, logical_date or run_start, not 'midnight'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("deadline is missing 'within'"), std::string::npos) << all;
  EXPECT_NE(all.find("deadline.within must be positive"), std::string::npos) << all;
  EXPECT_NE(all.find("'when'"), std::string::npos) << all;
}

TEST(LoaderWarningsTest, EitherDayRuleWarnsWithNextDaysAndStillLoads) {
  // 2100-01-01 is a Friday.
  LoadResult r = LoadDag(
      "dag: either\nschedule: \"0 0 13 * FRI\"\nstart_date: 2100-01-01\n"
      "tasks:\n  - id: a\n    type: noop\n",
      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front().ToString();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].ToString(),
            "t.yaml:2:11: schedule '0 0 13 * FRI': day-of-month and day-of-week are both "
            "restricted, so cron's \"either\" rule applies (a day matches when EITHER field "
            "matches, not both); next days: 2100-01-01 Fri, 2100-01-08 Fri, 2100-01-13 Wed, "
            "2100-01-15 Fri, 2100-01-22 Fri");

  LoadResult plain = LoadDag(
      "dag: plain\nschedule: \"0 0 1-31 * FRI\"\nstart_date: 2100-01-01\n"
      "tasks:\n  - id: a\n    type: noop\n",
      "t.yaml");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain.warnings.empty());
}

}  // namespace
}  // namespace de::dag
