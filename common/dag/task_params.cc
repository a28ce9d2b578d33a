#include "common/dag/task_params.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace de::dag {
namespace {

using K = ParamKind;

ParamSpec P(std::string name, K kind, std::string def, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = kind;
  p.default_value = std::move(def);
  p.doc = std::move(doc);
  return p;
}
ParamSpec Required(std::string name, K kind, std::string doc) {
  ParamSpec p = P(std::move(name), kind, "", std::move(doc));
  p.required = true;
  return p;
}
ParamSpec Enum(std::string name, std::vector<std::string> allowed, std::string def,
               std::string doc) {
  ParamSpec p = P(std::move(name), K::kEnum, std::move(def), std::move(doc));
  p.allowed = std::move(allowed);
  return p;
}
ParamSpec Int(std::string name, long long min, std::string def, std::string doc) {
  ParamSpec p = P(std::move(name), K::kInt, std::move(def), std::move(doc));
  p.min_int = min;
  return p;
}
ParamSpec Of(ParamSpec p, std::vector<ParamSpec> fields) {
  p.fields = std::move(fields);
  return p;
}
// An element/value spec (no name).
ParamSpec Elem(K kind) { return P("", kind, "", ""); }

ParamSpec Input() {
  return Required("input", K::kInput,
                  "a file, glob or folder (hive col=value/ folders become columns), or "
                  "{path, from, to, allow_missing} for the partitions inside [from, to)");
}
ParamSpec Output() {
  return Required("output", K::kString,
                  "the output folder inside the data root, replaced atomically (_SUCCESS)");
}
ParamSpec Compression() {
  return Enum("compression", {"snappy", "zstd", "gzip", "none"}, "snappy", "Parquet codec");
}
ParamSpec CompressionLevel() {
  return Int("compression_level", 0, "",
             "codec level (zstd 1-22, gzip 1-9); codec default if unset");
}
ParamSpec OnError(std::string doc) {
  return Enum("on_error", {"reject", "null", "fail"}, "reject", std::move(doc));
}
ParamSpec Threads() { return Int("threads", 0, "2", "worker threads (0 = all cores)"); }
ParamSpec Fsync() {
  return P("fsync", K::kBool, "false", "fsync files and folders before the output is swapped in");
}
ParamSpec Format() { return Enum("format", {"parquet", "csv"}, "parquet", "output format"); }
ParamSpec Schema() {
  return Of(P("schema", K::kMap, "", "CSV input: {column: type} instead of inference"),
            {Elem(K::kTypeName)});
}
ParamSpec PartitionBy() {
  return Of(P("partition_by", K::kList, "",
              "hive folders col=value/: column names or {column, granularity: day|month, as}"),
            {Elem(K::kPartition)});
}

// CSV reading options shared by every task that reads CSV.
std::vector<ParamSpec> CsvOptions(bool with_schema) {
  ParamSpec delimiter =
      P("delimiter", K::kChar, "detect", "CSV field separator (one character or \\t)");
  ParamSpec quote = P("quote", K::kChar, "\"", "CSV quote character, or none");
  quote.allowed = {"none"};
  std::vector<ParamSpec> out = {
      delimiter,
      Enum("header", {"true", "false", "auto", "yes", "no"}, "auto",
           "CSV: the first row names the columns"),
      quote,
      P("null_values", K::kStrings, "", "CSV: tokens read as null (e.g. [\"\", NA])"),
  };
  if (with_schema) out.push_back(Schema());
  return out;
}

std::vector<ParamSpec> Concat(std::vector<ParamSpec> a, const std::vector<ParamSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TaskParams Shell() {
  return {
      "shell",
      "runs a command; its exit code decides",
      {Required("command", K::kCommand, "a string (run by /bin/sh -c) or a list (argv, no shell)"),
       P("args", K::kStrings, "", "extra arguments, passed as separate words"),
       Of(P("env", K::kMap, "", "environment variables {NAME: value}"), {Elem(K::kString)}),
       P("cwd", K::kString, "data root", "working directory (relative to the data root)")}};
}

TaskParams Noop() { return {"noop", "does nothing and succeeds (tests, placeholders)", {}}; }

TaskParams CsvToParquet() {
  ParamSpec input = Input();
  input.doc = "a CSV file (.csv, .csv.gz, .csv.zst), a glob or a folder";
  input.kind = K::kString;
  std::vector<ParamSpec> p = {
      input,
      Output(),
      Compression(),
      CompressionLevel(),
      P("target_file_size", K::kSize, "192MB", "start a new file after this many bytes"),
      Int("row_group_size", 1, "1048576", "rows per Parquet row group"),
      PartitionBy(),
  };
  p = Concat(std::move(p), {Schema()});
  p = Concat(std::move(p), CsvOptions(false));
  p = Concat(
      std::move(p),
      {OnError("a row that does not parse: reject (to _rejects), null the value, or fail"),
       Threads(), Int("sample_rows", 1, "20000", "rows used for detection and type inference"),
       Int("max_open_files", 1, "256", "partitioned output: open files across threads"), Fsync()});
  return {"csv_to_parquet", "converts CSV to Parquet", std::move(p)};
}

ParamSpec Dedupe() {
  ParamSpec keys = Required("keys", K::kColumns, "the columns that identify a row");
  ParamSpec d = Of(P("dedupe", K::kStruct, "",
                     "{keys: [..], keep: first|last}: one row per key (memory: a hash per key)"),
                   {keys, Enum("keep", {"first", "last"}, "first", "which row of a key to keep")});
  d.shorthand = "keys";
  return d;
}

TaskParams Clean() {
  ParamSpec trim = Of(P("trim", K::kOneOf, "false",
                        "strip leading/trailing spaces: true (every string column) or columns"),
                      {Elem(K::kBool), Elem(K::kColumns)});
  std::vector<ParamSpec> p = {
      Input(),
      Output(),
      Format(),
      Compression(),
      CompressionLevel(),
      P("target_file_size", K::kSize, "192MB", "start a new file after this many bytes"),
      Int("row_group_size", 1, "1048576", "rows per Parquet row group"),
      P("select", K::kColumns, "", "keep only these columns, in this order"),
      P("drop", K::kColumns, "", "remove these columns"),
      Of(P("rename", K::kMap, "", "{old: new} column names"), {Elem(K::kString)}),
      Of(P("cast", K::kMap, "", "{column: type} conversions"), {Elem(K::kTypeName)}),
      OnError("a value that does not cast: reject the row, null the value, or fail"),
      trim,
      P("null_if", K::kStrings, "", "values that become null (e.g. [\"\", NA, \"N/A\"])"),
      P("lower", K::kColumns, "", "lower-case these columns"),
      P("upper", K::kColumns, "", "upper-case these columns"),
      Enum("invalid_text", {"replace", "reject"}, "replace",
           "invalid UTF-8 and control characters: replace them, or reject the row"),
      P("filter", K::kExpr, "", "keep the rows where this expression is true"),
      Dedupe(),
      Of(P("checks", K::kList, "",
           "data-quality checks (not_null, unique, accepted_values, range, regex, row_count)"),
         {Elem(K::kCheck)}),
      Threads(),
      Int("sample_rows", 1, "20000", "CSV input: rows used for detection and type inference"),
      Fsync(),
  };
  return {"clean", "selects, renames, casts, cleans, filters, dedupes and checks rows",
          Concat(std::move(p), CsvOptions(true))};
}

TaskParams Aggregate() {
  ParamSpec metrics = Of(Required("metrics", K::kMap,
                                  "{name: \"count(*)\" | \"sum(col)\" | \"avg(col)\" | "
                                  "\"quantile(col, 0.95)\" ...} (or a list of {name: call})"),
                         {Elem(K::kMetric)});
  metrics.pairs_list = true;
  std::vector<ParamSpec> p = {
      Input(),
      Output(),
      Format(),
      Compression(),
      CompressionLevel(),
      Of(P("group_by", K::kList, "",
           "columns or {bucket: hour|day|week|month|year, of: col, as: name}"),
         {Elem(K::kGroupBy)}),
      metrics,
      P("filter", K::kExpr, "", "aggregate only the rows where this expression is true"),
      P("having", K::kExpr, "",
        "keep the groups where this expression (on output columns) is true"),
      P("order_by", K::kStrings, "", "output columns, each optionally followed by asc or desc"),
      Int("limit", 0, "", "at most this many output rows"),
      P("partition_by", K::kColumns, "", "hive folders col=value/ by these output columns"),
      Threads(),
      Int("max_groups", 1, "", "fail clearly beyond this many groups"),
      P("max_memory", K::kSize, "", "fail clearly when the group states need more memory"),
      Fsync(),
      OnError("CSV input: a value that does not parse: reject the row, null it, or fail"),
      Int("sample_rows", 1, "20000", "CSV input: rows used for detection and type inference"),
  };
  return {"aggregate", "groups rows and computes metrics", Concat(std::move(p), CsvOptions(true))};
}

std::string MarkdownCell(std::string s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}});
}

}  // namespace

const std::vector<TaskParams>& AllTaskParams() {
  static const std::vector<TaskParams>* kAll =
      new std::vector<TaskParams>{Shell(), Noop(), CsvToParquet(), Clean(), Aggregate()};
  return *kAll;
}

const TaskParams* FindTaskParams(std::string_view type) {
  for (const auto& t : AllTaskParams())
    if (t.type == type) return &t;
  return nullptr;
}

const ParamSpec* FindParam(std::string_view type, std::string_view key) {
  const TaskParams* t = FindTaskParams(type);
  if (t == nullptr) return nullptr;
  for (const auto& p : t->params)
    if (p.name == key) return &p;
  return nullptr;
}

const std::vector<std::string>& MetricFunctions() {
  static const std::vector<std::string> k = {
      "count",          "sum",      "min",           "max",           "avg",
      "count_distinct", "quantile", "quantile_disc", "quantile_cont", "median"};
  return k;
}

const std::vector<std::string>& ColumnTypeNames() {
  static const std::vector<std::string> k = {"bool",      "boolean", "int32",   "int",     "int64",
                                             "bigint",    "double",  "float",   "float64", "date",
                                             "timestamp", "string",  "varchar", "text"};
  return k;
}

std::string KindName(const ParamSpec& p) {
  switch (p.kind) {
    case K::kString:
      return "string";
    case K::kInt:
      return p.min_int > 0 ? absl::StrCat("int >= ", p.min_int) : "int";
    case K::kBool:
      return "bool";
    case K::kSize:
      return "size (e.g. 192MB)";
    case K::kDuration:
      return "duration (e.g. 30s)";
    case K::kChar:
      return p.allowed.empty() ? "character" : "character or none";
    case K::kEnum:
      return absl::StrJoin(p.allowed, "|");
    case K::kExpr:
      return "expression";
    case K::kTypeName:
      return "column type";
    case K::kColumns:
      return "column or list of columns";
    case K::kStrings:
      return "string or list of strings";
    case K::kList:
      return absl::StrCat("list of ", p.fields.empty() ? "values" : KindName(p.fields[0]));
    case K::kMap:
      return absl::StrCat("map of ", p.fields.empty() ? "values" : KindName(p.fields[0]));
    case K::kStruct: {
      std::vector<std::string> keys;
      for (const auto& f : p.fields) keys.push_back(f.name);
      return absl::StrCat("{", absl::StrJoin(keys, ", "), "}");
    }
    case K::kInput:
      return "path or {path, from, to, allow_missing}";
    case K::kMetric:
      return "metric";
    case K::kCheck:
      return "check";
    case K::kGroupBy:
      return "column or time bucket";
    case K::kPartition:
      return "column or {column, granularity, as}";
    case K::kCommand:
      return "string or list of strings";
    case K::kOneOf: {
      std::vector<std::string> names;
      for (const auto& f : p.fields) names.push_back(KindName(f));
      return absl::StrJoin(names, " or ");
    }
  }
  return "value";
}

std::string ParamsHelp(const TaskParams& t) {
  std::string out = absl::StrCat(t.type, ": ", t.doc, "\n");
  if (t.params.empty()) return absl::StrCat(out, "  (no parameters)\n");
  size_t width = 0;
  for (const auto& p : t.params) width = std::max(width, p.name.size());
  for (const auto& p : t.params) {
    absl::StrAppend(&out, "  ", p.name, std::string(width - p.name.size() + 2, ' '), KindName(p));
    if (p.required) absl::StrAppend(&out, ", required");
    if (!p.default_value.empty()) absl::StrAppend(&out, ", default ", p.default_value);
    absl::StrAppend(&out, "\n  ", std::string(width + 2, ' '), p.doc, "\n");
  }
  return out;
}

std::string ParamsMarkdown() {
  std::string out;
  for (const auto& t : AllTaskParams()) {
    absl::StrAppend(&out, "#### `", t.type, "`\n\n", t.doc, ".\n\n");
    if (t.params.empty()) {
      absl::StrAppend(&out, "No parameters.\n\n");
      continue;
    }
    absl::StrAppend(&out, "| key | type | required | default | meaning |\n|---|---|---|---|---|\n");
    for (const auto& p : t.params) {
      absl::StrAppend(
          &out, "| `", p.name, "` | ", MarkdownCell(KindName(p)), " | ", p.required ? "yes" : "",
          " | ",
          p.default_value.empty() ? "" : absl::StrCat("`", MarkdownCell(p.default_value), "`"),
          " | ", MarkdownCell(p.doc), " |\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace de::dag
