#include "common/dag/task_params.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/dag/loader.h"
#include "common/dag/param_check.h"
#include "common/dag/param_values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Errors(const std::string& yaml) {
  LoadResult r = LoadDag(yaml, "t.yaml");
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.ToString());
  return out;
}

// One task of `type` whose `with:` block is the given lines (indented by 6 in the file, so the
// first `with` line is line 6 and values start at column 7).
std::vector<std::string> WithErrors(const std::string& type, const std::string& with_lines) {
  return Errors("dag: x\ntasks:\n  - id: t\n    type: " + type + "\n    with:\n" + with_lines);
}

TEST(TaskParamsTest, EveryKnownTaskTypeIsDeclaredOnce) {
  std::vector<std::string> types;
  for (const auto& t : AllTaskParams()) types.push_back(t.type);
  EXPECT_EQ(types, KnownTaskTypes());
  for (const auto& t : AllTaskParams()) {
    std::vector<std::string> names;
    for (const auto& p : t.params) {
      EXPECT_FALSE(p.doc.empty()) << t.type << "." << p.name;
      EXPECT_EQ(std::count(names.begin(), names.end(), p.name), 0) << t.type << "." << p.name;
      names.push_back(p.name);
    }
  }
  ASSERT_NE(FindParam("csv_to_parquet", "compression"), nullptr);
  EXPECT_EQ(FindParam("csv_to_parquet", "compression")->allowed,
            (std::vector<std::string>{"snappy", "zstd", "gzip", "none"}));
  EXPECT_EQ(FindParam("noop", "anything"), nullptr);
}

TEST(TaskParamsTest, UnknownKeySuggestsTheNearest) {
  EXPECT_THAT(WithErrors("csv_to_parquet",
                         "      input: in.csv\n      output: out\n      compresion: zstd\n"),
              ElementsAre("t.yaml:8:7: unknown csv_to_parquet parameter 'with.compresion' (did "
                          "you mean 'compression'?)"));
  EXPECT_THAT(WithErrors("shell", "      command: ls\n      shell: bash\n"),
              ElementsAre("t.yaml:7:7: unknown shell parameter 'with.shell'; known: command, "
                          "args, env, cwd"));
  EXPECT_THAT(Errors("dag: x\ntasks:\n  - {id: t, type: noop, with: {sleep: 1s}}\n"),
              ElementsAre("t.yaml:3:32: unknown noop parameter 'with.sleep' (it takes no "
                          "parameters)"));
}

TEST(TaskParamsTest, ValueNotAllowed) {
  EXPECT_THAT(WithErrors("csv_to_parquet",
                         "      input: in.csv\n      output: out\n      compression: lz4\n"
                         "      on_error: skip\n"),
              ElementsAre("t.yaml:8:20: with.compression: 'lz4' is not one of snappy, zstd, "
                          "gzip, none",
                          "t.yaml:9:17: with.on_error: 'skip' is not one of reject, null, fail"));
  // A bare YAML null is the value "null" for a parameter that allows it, and no value elsewhere.
  EXPECT_THAT(
      WithErrors("csv_to_parquet", "      input: a\n      output: b\n      on_error: null\n"),
      IsEmpty());
  EXPECT_THAT(
      WithErrors("csv_to_parquet", "      input: a\n      output: b\n      compression: ~\n"),
      ElementsAre("t.yaml:8:20: with.compression: no value (remove the key to use the "
                  "default)"));
  EXPECT_THAT(
      WithErrors("csv_to_parquet", "      input: a\n      output: b\n      on_error: \"null\"\n"),
      IsEmpty());
}

TEST(TaskParamsTest, WrongTypes) {
  EXPECT_THAT(
      WithErrors("csv_to_parquet",
                 "      input: [a, b]\n      output: out\n      threads: many\n"
                 "      target_file_size: 12XB\n      fsync: maybe\n      delimiter: ';;'\n"
                 "      schema: [a]\n      row_group_size: 0\n"),
      ElementsAre("t.yaml:6:14: with.input: expected a string, got a list",
                  "t.yaml:8:16: with.threads: expected an integer >= 0, got 'many'",
                  "t.yaml:9:25: with.target_file_size: '12XB': unknown unit 'xb' (use B, KB, MB, "
                  "GB or TB)",
                  "t.yaml:10:14: with.fsync: expected true or false, got 'maybe'",
                  "t.yaml:11:18: with.delimiter: expected one character (or \\t), got ';;'",
                  "t.yaml:12:15: with.schema: expected a mapping {name: column type}, got a list",
                  "t.yaml:13:23: with.row_group_size: expected an integer >= 1, got '0'"));
}

TEST(TaskParamsTest, MissingRequired) {
  EXPECT_THAT(WithErrors("aggregate", "      input: in\n      output: out\n"),
              ElementsAre("t.yaml:6:7: task 't' (aggregate) needs 'with.metrics'"));
  EXPECT_THAT(
      WithErrors("clean", "      input: in\n      output: out\n      dedupe: {keep: last}\n"),
      ElementsAre("t.yaml:8:15: with.dedupe needs 'keys'"));
}

TEST(TaskParamsTest, ExpressionErrorsPointIntoTheFile) {
  // Plain scalar: the value starts at column 15; the error is at column 14 of the expression.
  EXPECT_THAT(
      WithErrors("clean", "      input: in\n      output: out\n      filter: distance > (0\n"),
      ElementsAre("t.yaml:8:28: filter: column 14: expected ')' but found end of "
                  "expression"));
  EXPECT_THAT(
      WithErrors("clean", "      input: in\n      output: out\n      filter: distance => 0\n"),
      ElementsAre("t.yaml:8:24: filter: column 10: unknown operator '=>'"));
  EXPECT_THAT(
      WithErrors("clean", "      input: in\n      output: out\n      filter: origin like 5\n"),
      ElementsAre("t.yaml:8:27: filter: column 13: expected a 'pattern' string but found "
                  "'5'"));
  // Quoted scalar: one more for the quote.
  EXPECT_THAT(WithErrors("aggregate",
                         "      input: in\n      output: out\n      metrics: {n: count(*)}\n"
                         "      having: \"n > 'x\"\n"),
              ElementsAre("t.yaml:9:20: having: column 5: unterminated string"));
  // A block scalar cannot be mapped: the value's own position.
  EXPECT_THAT(
      WithErrors("clean", "      input: in\n      output: out\n      filter: >\n        a )\n"),
      ElementsAre("t.yaml:8:15: filter: column 3: unexpected ')' after the expression"));
}

TEST(TaskParamsTest, TemplatesSkipTypeChecksButNotKeys) {
  EXPECT_THAT(
      Errors(R"(dag: x
params: { codec: zstd, n: 5 }
tasks:
  - id: t
    type: clean
    with:
      input: "in/{{ ds }}"
      output: out
      compression: "{{ params.codec }}"
      threads: "{{ params.n }}"
      checks: [ { row_count: { min: "{{ params.n }}" } } ]
      "{{ params.codec }}": 1
)"),
      ElementsAre("t.yaml:12:7: unknown clean parameter 'with.{{ params.codec }}'; known: "
                  "input, output, format, compression, compression_level, target_file_size, "
                  "row_group_size, select, drop, rename, cast, on_error, trim, null_if, "
                  "lower, upper, invalid_text, filter, dedupe, checks, threads, "
                  "sample_rows, fsync, delimiter, header, quote, null_values, schema"));
}

TEST(TaskParamsTest, MetricsGroupByAndChecks) {
  EXPECT_THAT(
      WithErrors("aggregate",
                 "      input: in\n      output: out\n"
                 "      metrics: {n: count(*), a: mean(delay), q: 'quantile(delay, 2)', s: sum(*), "
                 "m: max}\n"
                 "      group_by: [origin, {bucket: fortnight, of: ts}, {bucket: day}]\n"),
      ElementsAre(
          "t.yaml:8:33: with.metrics.a: 'mean(delay)': unknown function 'mean' (did you mean "
          "'min'?); known: count, sum, min, max, avg, count_distinct, quantile, quantile_disc, "
          "quantile_cont, median",
          "t.yaml:8:49: with.metrics.q: 'quantile(delay, 2)': quantile takes a column and a "
          "fraction in [0, 1], e.g. quantile(delay, 0.95)",
          "t.yaml:8:74: with.metrics.s: 'sum(*)': sum(*) is not defined; name a column",
          "t.yaml:8:85: with.metrics.m: 'max': expected function(column), e.g. count(*), "
          "sum(distance), quantile(delay, 0.95)",
          "t.yaml:9:35: with.group_by[1].bucket: 'fortnight' is not one of hour, day, week, "
          "month, year",
          "t.yaml:9:55: with.group_by[2] needs 'of'"));
  EXPECT_THAT(
      WithErrors("clean",
                 "      input: in\n      output: out\n"
                 "      checks:\n"
                 "        - not_nul: [origin]\n"
                 "        - {unique: [a, b], severity: fatal}\n"
                 "        - {range: {column: delay, min: 0}, regex: {column: a, pattern: x}}\n"
                 "        - {severity: warn}\n"
                 "        - {accepted_values: {column: c}}\n"
                 "        - {row_count: {min: -1}}\n"),
      ElementsAre(
          "t.yaml:9:11: unknown check key 'with.checks[0].not_nul' (did you mean "
          "'not_null'?)",
          "t.yaml:10:38: with.checks[1].severity: 'fatal' is not one of error, warn, warning",
          "t.yaml:12:11: with.checks[3]: a check names one of not_null, unique, "
          "accepted_values, range, regex, row_count",
          "t.yaml:13:29: with.checks[4].accepted_values needs 'values'",
          "t.yaml:14:29: with.checks[5].row_count.min: expected an integer >= 0, got "
          "'-1'"));
}

TEST(TaskParamsTest, EveryErrorOfTheFileAtOnce) {
  std::vector<std::string> errors = Errors(R"(dag: x
tasks:
  - id: a
    type: csv_to_parquet
    with: { input: in.csv, output: out, compression: lz4, treads: 2 }
  - id: b
    type: clean
    with: { input: x, output: y, filter: "(a", dedupe: { keys: [k], keep: middle } }
  - id: c
    type: shell
    with: { command: ls, env: [A] }
)");
  EXPECT_THAT(errors,
              ElementsAre("t.yaml:5:54: with.compression: 'lz4' is not one of snappy, zstd, gzip, "
                          "none",
                          "t.yaml:5:59: unknown csv_to_parquet parameter 'with.treads' (did you "
                          "mean 'threads'?)",
                          "t.yaml:8:45: filter: column 3: expected ')' but found end of expression",
                          "t.yaml:8:75: with.dedupe.keep: 'middle' is not one of first, last",
                          "t.yaml:11:31: with.env: expected a mapping {name: string}, got a list"));
}

TEST(TaskParamsTest, TheDesignExamplesAreValid) {
  EXPECT_THAT(Errors(R"yaml(dag: flights_daily
params: { raw_dir: data/raw, min_rows: 1000 }
tasks:
  - id: convert
    type: csv_to_parquet
    with:
      input: "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz"
      output: "lake/flights/dt={{ ds }}"
      compression: zstd
      target_file_size: 64MB
      partition_by: [origin, {column: ts, granularity: day}]
      null_values: ["", NA]
      delimiter: "\t"
      quote: none
  - id: clean
    type: clean
    needs: [convert]
    with: { input: "lake/flights/dt={{ ds }}", output: "lake/flights_clean/dt={{ ds }}",
            null_if: ["", NA, "N/A"], trim: true, dedupe: { keys: [date, origin, destination] },
            cast: { delay: int32 }, filter: "distance > 0", on_error: reject,
            checks: [ { not_null: [origin] }, { row_count: { min: "{{ params.min_rows }}" } },
                      { range: { column: delay, min: -60, max: 1440 }, severity: warn } ] }
  - id: daily_stats
    type: aggregate
    needs: [clean]
    with: { input: { path: lake/flights_clean, from: "{{ data_interval_start }}",
                     to: "{{ data_interval_end }}", allow_missing: true },
            output: "marts/daily/dt={{ ds }}",
            group_by: [origin, { bucket: month, of: date, as: month }],
            metrics: { flights: count(*), avg_delay: avg(delay), p95: "quantile(delay, 0.95)" },
            having: "flights > 10", order_by: [flights desc], limit: 100 }
  - id: notify
    type: shell
    needs: [daily_stats]
    with: { command: [echo, done], args: [x], env: { A: b }, cwd: "." }
)yaml"),
              IsEmpty());
}

// The forms the clean and aggregate tasks accept beyond the shortest ones.
TEST(TaskParamsTest, LongerFormsOfChecksAndMetrics) {
  EXPECT_THAT(WithErrors("clean",
                         "      input: in\n      output: out\n      invalid_text: reject\n"
                         "      dedupe: [a, b]\n      trim: origin\n"
                         "      checks:\n"
                         "        - {unique: {columns: [a, b], severity: warn}}\n"
                         "        - {range: {column: d, min: 0, severity: warning}}\n"
                         "        - {not_null: a, unique: b, severity: error}\n"),
              IsEmpty());
  EXPECT_THAT(
      WithErrors(
          "aggregate",
          "      input: in\n      output: out\n      partition_by: origin\n"
          "      max_memory: 1GB\n      max_groups: 1000000\n"
          "      metrics: [{n: count(*)}, {m: median(delay)}, {q: \"quantile_cont(d, 0.5)\"}]\n"),
      IsEmpty());
  EXPECT_THAT(WithErrors("aggregate",
                         "      input: in\n      output: out\n"
                         "      metrics: [{n: count(*), m: max(d)}, x]\n"),
              ElementsAre("t.yaml:8:17: with.metrics[0]: expected one {name: metric} pair",
                          "t.yaml:8:43: with.metrics[1]: expected one {name: metric} pair"));
}

TEST(ParamValuesTest, DefaultsAndTypedGetters) {
  YAML::Node with = YAML::Load(
      "{input: in, output: out, select: a, null_if: ['', NA], cast: {d: int32}, threads: 4, "
      "delimiter: '\\t', dedupe: {keys: [k]}}");
  auto v = ParamValues::Make("clean", with);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->String("compression"), "snappy");
  EXPECT_EQ(v->String("on_error"), "reject");
  EXPECT_EQ(v->Int("threads"), 4);
  EXPECT_FALSE(v->Bool("fsync"));
  EXPECT_EQ(v->Char("delimiter"), '\t');
  EXPECT_EQ(v->Strings("select"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(v->Strings("null_if"), (std::vector<std::string>{"", "NA"}));
  EXPECT_EQ(v->StringMap("cast").size(), 1u);
  EXPECT_EQ(v->StringMap("cast")[0].second, "int32");
  EXPECT_TRUE(v->Has("dedupe"));
  EXPECT_FALSE(v->Has("filter"));
  EXPECT_EQ(v->Node("dedupe")["keys"][0].Scalar(), "k");

  auto c = ParamValues::Make("csv_to_parquet", YAML::Load("{input: a, output: b}"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Size("target_file_size"), 192 << 20);
  EXPECT_EQ(c->Int("row_group_size"), 1048576);
  EXPECT_EQ(c->Char("delimiter"), '\0') << "detect";

  auto bad = ParamValues::Make("csv_to_parquet", YAML::Load("{input: a, compresion: zstd}"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown csv_to_parquet parameter 'compresion' (did you mean 'compression'?)\n"
            "csv_to_parquet needs 'output'");
}

TEST(ParamValuesTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("192MB"), 192 << 20);
  EXPECT_EQ(*ParseByteSize("1.5k"), 1536);
  EXPECT_EQ(*ParseByteSize("65536"), 65536);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("0").ok());
}

// README.md's parameter reference is generated (`de-worker task --params-markdown`).
TEST(TaskParamsTest, ReadmeReferenceIsUpToDate) {
  std::ifstream f("README.md");
  ASSERT_TRUE(f.good()) << "run from the repository root";
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string readme = ss.str();
  const std::string begin = "<!-- params:begin -->\n", end = "<!-- params:end -->";
  size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  b += begin.size();
  EXPECT_EQ(readme.substr(b, e - b), "\n" + ParamsMarkdown())
      << "regenerate: build/worker/de-worker task --params-markdown";
}

TEST(TaskParamsTest, HelpListsEveryParameter) {
  std::string help = ParamsHelp(*FindTaskParams("csv_to_parquet"));
  EXPECT_THAT(help, HasSubstr("compression"));
  EXPECT_THAT(help, HasSubstr("snappy|zstd|gzip|none, default snappy"));
  EXPECT_THAT(ParamsHelp(*FindTaskParams("noop")), HasSubstr("(no parameters)"));
}

}  // namespace
}  // namespace de::dag
