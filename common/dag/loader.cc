// The DAG loader's entry points and its walk of the top-level document: which keys are read in
// which order (the zone first, since dates and the schedule are read in it), the limits
// pre-scan before any tree is built, and how yaml-cpp's exceptions become diagnostics. The keys
// themselves are checked by the other loader_*.cc parts (loader_internal.h lists them).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/dag/dag_params.h"
#include "common/dag/loader_internal.h"
#include "common/dag/yaml_indent.h"
#include "common/dag/yaml_limits.h"

namespace de::dag {

std::string Diagnostic::ToString() const {
  if (line <= 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", line, ":", column, ": ", message);
}

namespace loader_internal {
namespace {

const std::vector<std::string>& TopKeys() {
  static const std::vector<std::string> k = {
      "dag",      "description", "schedule",        "timezone",         "start_date",
      "end_date", "catchup",     "max_active_runs", "max_active_tasks", "params",
      "defaults", "sla",         "alerts",          "wait_for",         "tasks"};
  return k;
}

}  // namespace

bool MatchesIdChars(absl::string_view s, bool allow_dash) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

Location ToLocation(const YAML::Mark& m) {
  if (m.line < 0) return {};
  return Location{m.line + 1, m.column + 1};
}

void Loader::SyntaxError(const YAML::ParserException& e) {
  // A tab in the indentation up to where the parse failed is the cause; yaml-cpp does not say so.
  if (auto tab = FindTabIndentation(text_); tab && (e.mark.line < 0 || tab->line <= e.mark.line + 1)) {
    errors_.push_back(Diagnostic{file_, tab->line, tab->column, std::move(tab->message)});
    return;
  }
  Error(e.mark, absl::StrCat("YAML syntax error: ", e.msg, TemplateHint(e.mark)));
}

LoadResult Loader::Run() {
  // Size, node, alias-expansion, depth, task and param limits, before any tree is built.
  if (auto hit = CheckYamlLimits(text_)) {
    errors_.push_back(Diagnostic{file_, hit->line, hit->column, std::move(hit->message)});
    return Finish();
  }
  try {
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::ParserException& e) {
      SyntaxError(e);
      return Finish();
    }
    Validate(root);
  } catch (const YAML::Exception& e) {
    Error(e.mark, absl::StrCat("YAML error: ", e.msg));
  } catch (const std::exception& e) {
    Error(YAML::Mark::null_mark(), absl::StrCat("internal error while loading: ", e.what()));
  }
  return Finish();
}

AlertsLoadResult Loader::RunAlertsFile() {
  try {
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::ParserException& e) {
      SyntaxError(e);
    }
    if (root.IsMap() && root["alerts"]) root = root["alerts"];
    if (root.IsSequence()) {
      for (const auto& a : root) ReadAlert(a);
    } else if (root.IsDefined() && !root.IsNull() && errors_.empty()) {
      Error(root, "an alerts file must be a list of alerts (each with 'on' and a channel)");
    }
  } catch (const YAML::Exception& e) {
    Error(e.mark, absl::StrCat("YAML error: ", e.msg));
  } catch (const std::exception& e) {
    Error(YAML::Mark::null_mark(), absl::StrCat("internal error while loading: ", e.what()));
  }
  AlertsLoadResult r;
  r.alerts = std::move(dag_.alerts);
  r.errors = std::move(Finish().errors);
  if (!r.errors.empty()) r.alerts.clear();
  return r;
}

LoadResult Loader::Finish() {
  LoadResult r;
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
  });
  r.errors = std::move(errors_);
  r.warnings = std::move(warnings_);
  if (r.errors.empty()) r.dag = std::move(dag_);
  return r;
}

void Loader::Validate(const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull()) {
    Error(YAML::Mark::null_mark(), "file is empty (expected a mapping with 'dag' and 'tasks')");
    return;
  }
  if (!root.IsMap()) {
    Error(root, "the top level must be a mapping with 'dag', 'tasks', ...");
    return;
  }
  dag_.source = file_;
  dag_.yaml = std::string(text_);
  CheckKeys(root, TopKeys(), "top-level");
  ReadTimezone(root);  // the zone first: dates and the schedule are read in it
  ReadIdentity(root);
  ReadScheduleAndDates(root);
  ReadCatchup(root);
  ReadLimits(root);
  ReadParams(root);
  TaskDefaults defaults;
  if (YAML::Node d = root["defaults"]; d && !d.IsNull()) {
    if (!d.IsMap()) {
      Error(d, "defaults must be a mapping");
    } else {
      static const std::vector<std::string> kDefaultsKeys = {
          "retries", "retry_delay", "retry_backoff", "max_retry_delay",
          "timeout", "pool",        "priority",      "trigger_rule"};
      CheckKeys(d, kDefaultsKeys, "defaults");
      ReadTaskFields(d, &defaults);
      if (YAML::Node r = d["trigger_rule"]; r && !r.IsNull()) {
        defaults.trigger_rule = ReadTriggerRuleValue(r);
      }
    }
  }
  ReadAlertsAndWaits(root);
  ReadTasks(root, defaults);
}

// dag (the id), description.
void Loader::ReadIdentity(const YAML::Node& root) {
  YAML::Node id = root["dag"];
  if (!id || id.IsNull()) {
    Error(root, "missing required key 'dag' (the DAG id)");
  } else if (auto s = String(id, "dag")) {
    if (!MatchesIdChars(*s, /*allow_dash=*/false)) {
      Error(id, absl::StrCat("dag id '", *s, "' must match [a-z0-9_]+"));
    }
    dag_.id = *s;
  }
  if (YAML::Node d = root["description"]; d && !d.IsNull()) {
    if (auto s = String(d, "description")) dag_.description = *s;
  }
}

// max_active_runs, max_active_tasks, sla.
void Loader::ReadLimits(const YAML::Node& root) {
  if (YAML::Node n = root["max_active_runs"]; n && !n.IsNull()) {
    if (auto v = Int(n, "max_active_runs", 1, "a positive integer")) dag_.max_active_runs = *v;
  }
  if (YAML::Node n = root["max_active_tasks"]; n && !n.IsNull()) {
    if (auto v = Int(n, "max_active_tasks", 1, "a positive integer")) dag_.max_active_tasks = *v;
  }
  if (YAML::Node n = root["sla"]; n && !n.IsNull()) dag_.sla = ReadDeadline(n, "sla");
}

// params: typed declarations (common/dag/dag_params.h); their defaults may hold templates.
void Loader::ReadParams(const YAML::Node& root) {
  YAML::Node params = root["params"];
  if (!params || params.IsNull()) return;
  for (auto& p : ReadDagParams(params, !dag_.schedule.empty(), &dag_, &param_names_)) {
    Error(p.node, std::move(p.message));
  }
  if (params.IsMap()) {
    for (const auto& kv : params) {
      if (kv.second.IsScalar()) CheckTemplates(kv.second);
    }
  }
}

void Loader::ReadAlertsAndWaits(const YAML::Node& root) {
  if (YAML::Node alerts = root["alerts"]; alerts && !alerts.IsNull()) {
    if (!alerts.IsSequence()) {
      Error(alerts, "alerts must be a list");
    } else {
      for (const auto& a : alerts) ReadAlert(a);
    }
  }
  if (YAML::Node waits = root["wait_for"]; waits && !waits.IsNull()) {
    if (!waits.IsSequence()) {
      Error(waits, "wait_for must be a list");
    } else {
      for (const auto& w : waits) ReadWaitFor(w);
    }
  }
}

void Loader::ReadTasks(const YAML::Node& root, const TaskDefaults& defaults) {
  YAML::Node tasks = root["tasks"];
  if (!tasks || tasks.IsNull() || (tasks.IsSequence() && tasks.size() == 0)) {
    Error(tasks && tasks.IsSequence() ? tasks : root, "tasks must be a non-empty list");
    return;
  }
  if (!tasks.IsSequence()) {
    Error(tasks, "tasks must be a non-empty list");
    return;
  }
  std::vector<TaskDraft> drafts;
  for (const auto& t : tasks) {
    if (auto d = ReadTask(t, defaults)) drafts.push_back(std::move(*d));
  }
  OrderTasks(drafts);
}

}  // namespace loader_internal

LoadResult LoadDag(std::string_view yaml_text, std::string_view file_name) {
  return loader_internal::Loader(yaml_text, file_name).Run();
}

AlertsLoadResult LoadAlertsFile(std::string_view yaml_text, std::string_view file_name) {
  return loader_internal::Loader(yaml_text, file_name).RunAlertsFile();
}

}  // namespace de::dag
