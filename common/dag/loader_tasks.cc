// The DAG loader's tasks: each task's keys (id, type, needs, with, retries and the other fields a
// `defaults:` block can set, depends_on_past, deadline), the typed checks of `with:` against the
// task type's declaration (common/dag/param_check.h) and of a shell command's template places
// (common/dag/shell_check.h), then `needs` resolved into a stable topological order, with each
// cycle reported as its path.
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader_internal.h"
#include "common/dag/param_check.h"
#include "common/dag/shell_check.h"
#include "common/dag/suggest.h"

namespace de::dag::loader_internal {
namespace {

const std::vector<std::string>& TaskKeys() {
  static const std::vector<std::string> k = {
      "id",      "type",        "needs",         "with",
      "retries", "retry_delay", "retry_backoff", "max_retry_delay",
      "timeout", "pool",        "priority",      "depends_on_past",
      "deadline", "trigger_rule", "for_each", "max_parallel"};
  return k;
}

}  // namespace

std::optional<TaskDraft> Loader::ReadTask(const YAML::Node& t, const TaskDefaults& defaults) {
  if (!t.IsMap()) {
    Error(t, "each task must be a mapping with 'id' and 'type'");
    return std::nullopt;
  }
  CheckKeys(t, TaskKeys(), "task");
  TaskDraft draft;
  TaskSpec& spec = draft.spec;
  spec.loc = ToLocation(t.Mark());
  ReadTaskId(t, &draft);
  ReadTaskType(t, &spec);
  ReadNeeds(t, &draft);
  YAML::Node with = ReadWith(t, &spec);
  CheckRequiredWith(spec, with.IsMap() ? &with : nullptr, t);
  ReadForEach(t, &spec);

  TaskDefaults fields = defaults;
  ReadTaskFields(t, &fields);
  spec.retry = fields.retry;
  spec.timeout = fields.timeout;
  spec.pool = fields.pool;
  spec.priority = fields.priority;
  if (YAML::Node d = t["depends_on_past"]; d && !d.IsNull()) {
    if (auto b = Bool(d, "depends_on_past")) spec.depends_on_past = *b;
  }
  if (YAML::Node d = t["deadline"]; d && !d.IsNull()) spec.deadline = ReadDeadline(d, "deadline");
  ReadTriggerRule(t, defaults.trigger_rule, &spec);
  return draft;
}

void Loader::ReadTaskId(const YAML::Node& t, TaskDraft* draft) {
  TaskSpec& spec = draft->spec;
  YAML::Node id = t["id"];
  if (!id || id.IsNull()) {
    Error(t, "task is missing 'id'");
  } else if (auto s = String(id, "task id")) {
    spec.id = *s;
    draft->id_mark = id.Mark();
    if (!MatchesIdChars(*s, true)) {
      Error(id, absl::StrCat("task id '", *s, "' must match [a-z0-9_-]+"));
    }
    auto [it, inserted] = first_task_line_.emplace(*s, id.Mark().line + 1);
    if (!inserted) {
      Error(id,
            absl::StrCat("duplicate task id '", *s, "' (first defined at line ", it->second, ")"));
    } else {
      draft->has_id = true;
    }
  }
}

void Loader::ReadTaskType(const YAML::Node& t, TaskSpec* spec) {
  const std::string name = spec->id.empty() ? std::string("?") : spec->id;
  YAML::Node type = t["type"];
  if (!type || type.IsNull()) {
    Error(t, absl::StrCat("task '", name, "' is missing 'type' (one of ",
                          absl::StrJoin(KnownTaskTypes(), ", "), ")"));
  } else if (auto s = String(type, "type")) {
    const auto& known = KnownTaskTypes();
    if (std::find(known.begin(), known.end(), *s) == known.end()) {
      Error(type, absl::StrCat("unknown task type '", *s, "'", DidYouMean(*s, known),
                               "; known: ", absl::StrJoin(known, ", ")));
    } else {
      spec->type = *s;
    }
  }
}

void Loader::ReadNeeds(const YAML::Node& t, TaskDraft* draft) {
  YAML::Node needs = t["needs"];
  if (!needs || needs.IsNull()) return;
  if (needs.IsScalar()) {
    draft->need_nodes.push_back(needs);
  } else if (needs.IsSequence()) {
    for (const auto& n : needs) {
      if (!n.IsScalar()) {
        Error(n, "needs entries must be task ids");
        continue;
      }
      draft->need_nodes.push_back(n);
    }
  } else {
    Error(needs, "needs must be a list of task ids");
  }
  std::vector<std::string>& ids = draft->spec.needs;
  for (const auto& n : draft->need_nodes) {
    if (std::find(ids.begin(), ids.end(), n.Scalar()) == ids.end()) ids.push_back(n.Scalar());
  }
}

YAML::Node Loader::ReadWith(const YAML::Node& t, TaskSpec* spec) {
  YAML::Node with = t["with"];
  if (!with || with.IsNull()) return YAML::Node();
  if (!with.IsMap()) {
    Error(with, "with must be a mapping");
    return YAML::Node();
  }
  spec->with = YAML::Clone(with);
  CheckTemplates(with, &spec->external_refs);
  std::sort(spec->external_refs.begin(), spec->external_refs.end());
  if (spec->type == "shell") {
    for (auto& p : CheckShellWith(with, param_names_)) {
      if (p.warning) {
        Warning(p.node, std::move(p.message));
      } else {
        Error(BlockOffsetMark(p.node, p.offset), std::move(p.message));
      }
    }
  }
  return with;
}

void Loader::CheckRequiredWith(const TaskSpec& spec, const YAML::Node* with,
                               const YAML::Node& task) {
  if (spec.type.empty()) return;
  ParamCheckOptions o;
  o.subject = absl::StrCat("task '", spec.id, "' (", spec.type, ")");
  for (auto& p :
       CheckTaskParams(spec.type, with != nullptr ? *with : YAML::Node(), o, task.Mark())) {
    Error(p.expr_column > 0 ? ExprMark(p.mark, p.expr_text, p.expr_column) : p.mark,
          std::move(p.message));
  }
}

// retries, retry_delay, retry_backoff, max_retry_delay, timeout, pool, priority.
void Loader::ReadTaskFields(const YAML::Node& m, TaskDefaults* out) {
  if (YAML::Node n = m["retries"]; n && !n.IsNull()) {
    if (auto v = Int(n, "retries", 0, "a non-negative integer")) out->retry.retries = *v;
  }
  if (YAML::Node n = m["retry_delay"]; n && !n.IsNull()) {
    if (auto d = Duration(n, "retry_delay", false)) out->retry.retry_delay = *d;
  }
  if (YAML::Node n = m["retry_backoff"]; n && !n.IsNull()) {
    std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "fixed") {
      out->retry.backoff = Backoff::kFixed;
    } else if (s == "exponential") {
      out->retry.backoff = Backoff::kExponential;
    } else {
      Error(n, absl::StrCat("retry_backoff must be 'fixed' or 'exponential'",
                            DidYouMean(s, {"fixed", "exponential"})));
    }
  }
  if (YAML::Node n = m["max_retry_delay"]; n && !n.IsNull()) {
    if (auto d = Duration(n, "max_retry_delay", true)) out->retry.max_retry_delay = *d;
  }
  if (YAML::Node n = m["timeout"]; n && !n.IsNull()) {
    if (auto d = Duration(n, "timeout", true)) out->timeout = *d;
  }
  if (YAML::Node n = m["pool"]; n && !n.IsNull()) {
    if (auto s = String(n, "pool")) {
      if (s->empty()) {
        Error(n, "pool must not be empty");
      } else {
        out->pool = *s;
      }
    }
  }
  if (YAML::Node n = m["priority"]; n && !n.IsNull()) {
    if (auto v = Int(n, "priority", std::numeric_limits<int>::min(), "an integer")) {
      out->priority = *v;
    }
  }
}

void Loader::OrderTasks(std::vector<TaskDraft>& drafts) {
  const int n = static_cast<int>(drafts.size());
  std::map<std::string, int> index;  // first task with each id
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    if (drafts[i].has_id) index.emplace(drafts[i].spec.id, i);
    if (!drafts[i].spec.id.empty()) ids.push_back(drafts[i].spec.id);
  }
  std::vector<std::vector<int>> down(n);
  std::vector<int> indegree(n, 0);
  for (int i = 0; i < n; ++i) {
    std::set<int> ups;
    for (const auto& need : drafts[i].need_nodes) {
      const std::string& up = need.Scalar();
      auto it = index.find(up);
      if (it == index.end()) {
        Error(need, absl::StrCat("task '", drafts[i].spec.id, "' needs unknown task '", up, "'",
                                 DidYouMean(up, ids)));
        continue;
      }
      if (ups.insert(it->second).second) {
        down[it->second].push_back(i);
        ++indegree[i];
      }
    }
  }
  // Kahn's algorithm; among ready tasks the earliest in the file goes first.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int d : down[i])
      if (--indegree[d] == 0) ready.push(d);
  }
  if (static_cast<int>(order.size()) < n) {
    ReportCycles(drafts, down, indegree);
    return;
  }
  for (int i : order) dag_.tasks.push_back(std::move(drafts[i].spec));
}

void Loader::ReportCycles(const std::vector<TaskDraft>& drafts,
                          const std::vector<std::vector<int>>& down,
                          const std::vector<int>& indegree) {
  const int n = static_cast<int>(drafts.size());
  enum Color { kWhite, kGray, kBlack };
  std::vector<Color> color(n, kWhite);
  std::set<std::vector<int>> reported;
  constexpr size_t kMaxReports = 20;
  for (int root = 0; root < n && reported.size() < kMaxReports; ++root) {
    if (indegree[root] == 0 || color[root] != kWhite) continue;
    std::vector<std::pair<int, size_t>> stack = {{root, 0}};
    color[root] = kGray;
    while (!stack.empty()) {
      auto& [u, next] = stack.back();
      if (next == down[u].size()) {
        color[u] = kBlack;
        stack.pop_back();
        continue;
      }
      int v = down[u][next++];
      if (indegree[v] == 0) continue;
      if (color[v] == kWhite) {
        color[v] = kGray;
        stack.push_back({v, 0});
      } else if (color[v] == kGray) {
        std::vector<int> cycle;
        size_t k = stack.size();
        while (stack[k - 1].first != v) --k;
        for (; k <= stack.size(); ++k) cycle.push_back(stack[k - 1].first);
        auto first = std::min_element(cycle.begin(), cycle.end());
        std::rotate(cycle.begin(), first, cycle.end());
        std::vector<int> key = cycle;
        std::sort(key.begin(), key.end());
        if (reported.insert(key).second && reported.size() <= kMaxReports) {
          std::vector<std::string> names;
          for (int i : cycle) names.push_back(drafts[i].spec.id);
          names.push_back(drafts[cycle.front()].spec.id);
          Error(drafts[cycle.front()].id_mark,
                absl::StrCat("cycle: ", absl::StrJoin(names, " -> ")));
        }
      }
    }
  }
}

}  // namespace de::dag::loader_internal
