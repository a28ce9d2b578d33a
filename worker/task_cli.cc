#include "worker/task_cli.h"

#include <csignal>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/dag/dag.h"
#include "common/dag/param_check.h"
#include "common/dag/suggest.h"
#include "common/dag/task_params.h"
#include "common/human_bytes.h"
#include "worker/tasks/task.h"

namespace de::worker {

namespace {

std::atomic<bool> g_cancelled{false};

void OnSignal(int) { g_cancelled.store(true); }

void Usage() {
  std::cerr << "usage: de-worker task TYPE [key=value ...] [--params-file FILE.yaml]\n"
               "                [--result-file FILE.json] [--data-root DIR]\n"
               "       de-worker task --help TYPE     the parameters TYPE takes\n"
               "       de-worker task --params-markdown   the parameter reference (README)\n"
               "Runs one built-in task (e.g. csv_to_parquet) in the foreground.\n"
               "  key=value          a task parameter; the value is YAML: partition_by=[origin]\n"
               "  --params-file F    a YAML map of parameters (key=value arguments override it)\n"
               "  --result-file F    write {\"counters\":...,\"outputs\":...,\"summary\":...} here\n"
               "  --data-root DIR    relative paths resolve here; paths outside are refused\n"
               "                     (default: the current folder)\n"
               "example: de-worker task csv_to_parquet input=raw/flights.csv.gz output=lake/flights\n";
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20) {
      out->append(absl::StrFormat("\\u%04x", c));
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

bool WriteResultFile(const std::string& path, const std::string& json) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// {"ok":false,"error":"...","code":"INVALID_ARGUMENT","retryable":false,"seconds":...}
void WriteErrorResult(const std::string& path, const absl::Status& status, double seconds) {
  std::string json = "{\"ok\":false,\"error\":";
  AppendJsonString(std::string(status.message()), &json);
  json += ",\"code\":";
  AppendJsonString(absl::StatusCodeToString(status.code()), &json);
  absl::StrAppend(&json, ",\"retryable\":", IsRetryableTaskError(status) ? "true" : "false",
                  ",\"seconds\":", absl::StrFormat("%.3f", seconds), "}");
  WriteResultFile(path, json);
}

int PrintParamsHelp(const std::string& type) {
  const dag::TaskParams* t = dag::FindTaskParams(type);
  if (t == nullptr) {
    std::cerr << "de-worker task: unknown task type '" << type << "'"
              << dag::DidYouMean(type, dag::KnownTaskTypes()) << "\n";
    return 2;
  }
  std::cout << dag::ParamsHelp(*t);
  return 0;
}

}  // namespace

bool IsRetryableTaskError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return false;
    default:
      return true;
  }
}

YAML::Node ParseTaskArgValue(const std::string& type, const std::string& key,
                             const std::string& value) {
  if (const dag::ParamSpec* spec = dag::FindParam(type, key); spec != nullptr) {
    switch (spec->kind) {
      case dag::ParamKind::kString:
      case dag::ParamKind::kInt:
      case dag::ParamKind::kBool:
      case dag::ParamKind::kSize:
      case dag::ParamKind::kDuration:
      case dag::ParamKind::kChar:
      case dag::ParamKind::kEnum:
      case dag::ParamKind::kExpr:
      case dag::ParamKind::kTypeName:
        return YAML::Node(value);
      default:
        break;
    }
  }
  try {
    YAML::Node n = YAML::Load(value);
    if (n.IsNull() && !value.empty() && value != "null" && value != "~") return YAML::Node(value);
    bool flow = !value.empty() && (value[0] == '[' || value[0] == '{');
    if ((n.IsMap() || n.IsSequence()) && !flow) return YAML::Node(value);
    if (n.IsScalar()) return YAML::Node(value);  // keep the text exactly as typed
    return n;
  } catch (const YAML::Exception&) {
    return YAML::Node(value);
  }
}

int RunTaskCommand(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[2]) == "--params-markdown") {
    std::cout << dag::ParamsMarkdown();
    return 0;
  }
  const bool help_first = argc >= 3 && (std::string(argv[2]) == "-h" || std::string(argv[2]) == "--help");
  if (help_first && argc >= 4) return PrintParamsHelp(argv[3]);
  if (argc < 3 || help_first) {
    Usage();
    return 2;
  }
  const std::string type = argv[2];
  std::string params_file, result_file, data_root;
  std::vector<std::pair<std::string, std::string>> kvs;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto flag = [&](const char* name, std::string* out) {
      std::string n = name;
      if (a == n) {
        if (i + 1 >= argc) return false;
        *out = argv[++i];
        return true;
      }
      if (a.rfind(n + "=", 0) == 0) {
        *out = a.substr(n.size() + 1);
        return true;
      }
      return false;
    };
    if (flag("--params-file", &params_file) || flag("--result-file", &result_file) ||
        flag("--data-root", &data_root)) {
      continue;
    }
    if (a == "-h" || a == "--help") return PrintParamsHelp(type);
    size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 || eq == std::string::npos || eq == 0) {
      std::cerr << "de-worker task: unexpected argument '" << a << "' (expected key=value)\n";
      Usage();
      return 2;
    }
    kvs.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  const tasks::TaskFn* fn = tasks::FindBuiltinTask(type);
  if (fn == nullptr) {
    std::cerr << "de-worker task: unknown built-in task type '" << type << "'\n";
    return 2;
  }
  YAML::Node with(YAML::NodeType::Map);
  if (!params_file.empty()) {
    try {
      YAML::Node file = YAML::LoadFile(params_file);
      if (!file.IsNull()) {
        if (!file.IsMap()) {
          std::cerr << "de-worker task: " << params_file << ": expected a YAML map of parameters\n";
          return 2;
        }
        for (const auto& kv : file) with[kv.first.as<std::string>()] = kv.second;
      }
    } catch (const YAML::Exception& e) {
      std::cerr << "de-worker task: " << params_file << ": " << e.what() << "\n";
      return 2;
    }
  }
  for (const auto& [k, v] : kvs) with[k] = ParseTaskArgValue(type, k, v);
  dag::NormalizeNullEnums(type, &with);   // `on_error: null` in a params file means "null"
  {
    dag::ParamCheckOptions check;
    check.subject = type;
    check.key_prefix = "";
    absl::Status valid = dag::ProblemsToStatus(dag::CheckTaskParams(type, with, check));
    if (!valid.ok()) {
      // Named by the task type, not the command: a worker (de-worker, or `dectl dag test`'s
      // own) runs this as its child, and its output is the task's log.
      std::cerr << type << ": invalid parameters:\n" << valid.message() << "\n";
      if (result_file.empty()) std::cerr << "(de-worker task --help " << type << " lists them)\n";
      if (!result_file.empty()) WriteErrorResult(result_file, valid, 0);
      return 1;
    }
  }

  tasks::TaskContext ctx;
  std::error_code ec;
  ctx.data_root = data_root.empty() ? std::filesystem::current_path(ec).string() : data_root;
  ctx.log = [](const std::string& line) { std::cerr << line << std::endl; };
  ctx.cancelled = &g_cancelled;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<tasks::TaskOutcome> outcome;
  try {
    outcome = (*fn)(with, ctx);
  } catch (const std::exception& e) {
    outcome = absl::InternalError(absl::StrCat("unexpected error: ", e.what()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!outcome.ok()) {
    std::cerr << type << ": error: " << outcome.status().message() << "\n";
    if (!result_file.empty()) WriteErrorResult(result_file, outcome.status(), seconds);
    return 1;
  }
  const auto& c = outcome->counters;
  auto get = [&](const char* k) -> int64_t {
    auto it = c.find(k);
    return it == c.end() ? 0 : it->second;
  };
  std::cout << type << ": ok in " << absl::StrFormat("%.2f", seconds) << " s\n";
  if (c.count("rows_in") || c.count("rows_out")) {
    std::cout << "  rows      in " << get("rows_in") << ", out " << get("rows_out") << ", rejected "
              << get("rows_rejected");
    if (get("values_nulled") > 0) std::cout << ", values nulled " << get("values_nulled");
    std::cout << "\n";
  }
  if (c.count("files")) {
    std::cout << "  output    " << get("files") << " file(s), " << common::HumanBytes(get("bytes")) << " ("
              << get("bytes") << " bytes)\n";
  }
  int64_t in_bytes = c.count("csv_bytes") ? get("csv_bytes") : get("input_bytes");
  if (in_bytes > 0 && seconds > 0) {
    std::cout << "  speed     " << absl::StrFormat("%.1f MB/s", in_bytes / 1048576.0 / seconds)
              << " (" << common::HumanBytes(in_bytes) << " of input)\n";
  }
  for (const auto& o : outcome->outputs) std::cout << "  written   " << o << "\n";
  if (!result_file.empty()) {
    std::string json = "{\"ok\":true,\"seconds\":" + absl::StrFormat("%.3f", seconds) + ",\"counters\":{";
    bool first = true;
    for (const auto& [k, v] : c) {
      if (!first) json += ",";
      first = false;
      AppendJsonString(k, &json);
      absl::StrAppend(&json, ":", v);
    }
    json += "},\"outputs\":[";
    for (size_t i = 0; i < outcome->outputs.size(); ++i) {
      if (i) json += ",";
      AppendJsonString(outcome->outputs[i], &json);
    }
    absl::StrAppend(&json, "],\"summary\":",
                    outcome->summary_json.empty() ? "{}" : outcome->summary_json, "}");
    if (!WriteResultFile(result_file, json)) {
      std::cerr << type << ": cannot write " << result_file << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace de::worker
