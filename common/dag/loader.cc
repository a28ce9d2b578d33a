#include "common/dag/loader.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/dag/dag_params.h"
#include "common/dag/param_check.h"
#include "common/dag/schedule.h"
#include "common/dag/shell_check.h"
#include "common/dag/suggest.h"
#include "common/dag/template.h"
#include "common/dag/yaml_limits.h"

namespace de::dag {

std::string Diagnostic::ToString() const {
  if (line <= 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", line, ":", column, ": ", message);
}

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text_in) {
  absl::string_view original(text_in.data(), text_in.size());
  absl::string_view text = absl::StripAsciiWhitespace(original);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration '", original, "': ", why));
  };
  if (text.empty()) return bad("empty (expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d)");
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (!text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos) {
    return bad(
        absl::StrCat("a number needs a unit, e.g. '", original, "s' (units: ms, s, m, h, d, w)"));
  }
  absl::Duration total;
  size_t pos = 0;
  if (text.empty()) return bad("expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d");
  while (pos < text.size()) {
    size_t digits_end = pos;
    while (digits_end < text.size() && absl::ascii_isdigit(text[digits_end])) ++digits_end;
    if (digits_end == pos) return bad("expected e.g. 30s, 5m, 1h30m, 500ms, 2d, -7d");
    int64_t n = 0;
    if (digits_end - pos > 12 || !absl::SimpleAtoi(text.substr(pos, digits_end - pos), &n)) {
      return bad("number too large");
    }
    size_t unit_end = digits_end;
    while (unit_end < text.size() && absl::ascii_isalpha(text[unit_end])) ++unit_end;
    absl::string_view unit = text.substr(digits_end, unit_end - digits_end);
    if (unit.empty()) return bad("a number needs a unit (ms, s, m, h, d, w)");
    if (unit == "ms") {
      total += absl::Milliseconds(n);
    } else if (unit == "s") {
      total += absl::Seconds(n);
    } else if (unit == "m") {
      total += absl::Minutes(n);
    } else if (unit == "h") {
      total += absl::Hours(n);
    } else if (unit == "d") {
      total += absl::Hours(24 * n);
    } else if (unit == "w") {
      total += absl::Hours(24 * 7 * n);
    } else {
      return bad(absl::StrCat("unknown unit '", unit, "' (use ms, s, m, h, d or w)"));
    }
    pos = unit_end;
  }
  return negative ? -total : total;
}

namespace {

const std::vector<std::string>& TopKeys() {
  static const std::vector<std::string> k = {
      "dag",      "description", "schedule",        "timezone",         "start_date",
      "end_date", "catchup",     "max_active_runs", "max_active_tasks", "params",
      "defaults", "sla",         "alerts",          "wait_for",         "tasks"};
  return k;
}
const std::vector<std::string>& TaskKeys() {
  static const std::vector<std::string> k = {
      "id",      "type",        "needs",         "with",
      "retries", "retry_delay", "retry_backoff", "max_retry_delay",
      "timeout", "pool",        "priority",      "depends_on_past", "deadline"};
  return k;
}
const std::vector<std::string>& DeadlineKeys() {
  static const std::vector<std::string> k = {"after", "within"};
  return k;
}
const std::vector<std::string>& DefaultsKeys() {
  static const std::vector<std::string> k = {
      "retries", "retry_delay", "retry_backoff", "max_retry_delay", "timeout", "pool", "priority"};
  return k;
}
const std::vector<std::string>& WaitForKeys() {
  static const std::vector<std::string> k = {"dag", "task", "window", "timeout"};
  return k;
}
const std::vector<std::string>& WindowKeys() {
  static const std::vector<std::string> k = {"from", "to"};
  return k;
}
const std::vector<std::string>& AlertKeys() {
  static const std::vector<std::string> k = {"on",        "webhook", "slack",
                                             "pagerduty", "command", "format"};  // format: refused
  return k;
}
const std::vector<std::string>& AlertEvents() {
  static const std::vector<std::string> k = {"failure",   "task_failure",  "retry",
                                             "success",   "recovered",     "deadline_miss",
                                             "wait_timeout", "lease_lost"};
  return k;
}
constexpr char kAlertEventList[] =
    "failure, task_failure, retry, success, recovered, deadline_miss, wait_timeout, lease_lost";
constexpr char kAlertChannelList[] = "webhook, slack, pagerduty or command";

bool MatchesIdChars(absl::string_view s, bool allow_dash) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

// Task fields a `defaults:` block can set.
struct TaskDefaults {
  RetryPolicy retry;
  std::optional<absl::Duration> timeout;
  std::string pool = "default";
  int priority = 0;
};

// Per-task data kept only while loading.
struct TaskDraft {
  TaskSpec spec;
  bool has_id = false;
  YAML::Mark id_mark;
  std::vector<YAML::Node> need_nodes;
};

class Loader {
 public:
  Loader(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  LoadResult Run() {
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
        Error(e.mark, absl::StrCat("YAML syntax error: ", e.msg, TemplateHint(e.mark)));
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

  // The scheduler-wide alerts file: a YAML list of alert entries (or a mapping with `alerts:`).
  AlertsLoadResult RunAlertsFile() {
    try {
      YAML::Node root;
      try {
        root = YAML::Load(text_);
      } catch (const YAML::ParserException& e) {
        Error(e.mark, absl::StrCat("YAML syntax error: ", e.msg, TemplateHint(e.mark)));
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

 private:
  void Error(const YAML::Mark& m, std::string message) {
    Diagnostic d;
    d.file = file_;
    if (m.line >= 0) {
      d.line = m.line + 1;
      d.column = m.column + 1;
    }
    d.message = std::move(message);
    errors_.push_back(std::move(d));
  }
  void Error(const YAML::Node& n, std::string message) { Error(n.Mark(), std::move(message)); }
  void Warning(const YAML::Node& n, std::string message) {
    size_t before = errors_.size();
    Error(n, std::move(message));
    warnings_.push_back(std::move(errors_.back()));
    errors_.resize(before);
  }

  // A hint for the most common syntax error in DAG files: an unquoted {{ }} inside a flow
  // mapping or sequence, where '{' and '}' are YAML syntax.
  std::string TemplateHint(const YAML::Mark& m) const {
    if (m.line < 0) return "";
    size_t begin = 0;
    for (int line = 0; line < m.line && begin != std::string::npos; ++line) {
      begin = text_.find('\n', begin);
      if (begin != std::string::npos) ++begin;
    }
    if (begin == std::string::npos) return "";
    size_t end = text_.find('\n', begin);
    absl::string_view line = absl::string_view(text_).substr(
        begin, end == std::string::npos ? std::string::npos : end - begin);
    if (line.find("{{") == absl::string_view::npos) return "";
    return " (hint: quote values that contain {{ }} templates, e.g. \"dt={{ ds }}\")";
  }

  LoadResult Finish() {
    LoadResult r;
    std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
    });
    r.errors = std::move(errors_);
    r.warnings = std::move(warnings_);
    if (r.errors.empty()) r.dag = std::move(dag_);
    return r;
  }

  // Reports unknown and duplicate keys of `map`; `what` names the block in messages.
  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                 absl::string_view what) {
    std::map<std::string, int> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        Error(kv.first, absl::StrCat(what, " keys must be plain names"));
        continue;
      }
      const std::string& key = kv.first.Scalar();
      auto [it, inserted] = seen.emplace(key, kv.first.Mark().line + 1);
      if (!inserted) {
        Error(kv.first, absl::StrCat("duplicate key '", key, "' (first at line ", it->second, ")"));
      }
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(kv.first,
              absl::StrCat("unknown ", what, " key '", key, "'", DidYouMean(key, allowed)));
      }
    }
  }

  // Scalar text of `n`, or an error "<name> must be a string".
  std::optional<std::string> String(const YAML::Node& n, absl::string_view name) {
    if (!n.IsScalar()) {
      Error(n, absl::StrCat(name, " must be a string"));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<int> Int(const YAML::Node& n, absl::string_view name, int min,
                         absl::string_view kind) {
    int v = 0;
    if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), &v) || v < min) {
      Error(n, absl::StrCat(name, " must be ", kind));
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> Bool(const YAML::Node& n, absl::string_view name) {
    if (n.IsScalar()) {
      std::string s = absl::AsciiStrToLower(n.Scalar());
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    Error(n, absl::StrCat(name, " must be true or false"));
    return std::nullopt;
  }

  // A duration; `positive` rejects zero and negative values.
  std::optional<absl::Duration> Duration(const YAML::Node& n, absl::string_view name,
                                         bool positive) {
    if (!n.IsScalar()) {
      Error(n, absl::StrCat(name, " must be a duration like 30s, 5m, 1h"));
      return std::nullopt;
    }
    auto d = ParseDuration(n.Scalar());
    if (!d.ok()) {
      Error(n, absl::StrCat(name, ": ", d.status().message()));
      return std::nullopt;
    }
    if (positive && *d <= absl::ZeroDuration()) {
      Error(n, absl::StrCat(name, " must be positive"));
      return std::nullopt;
    }
    if (!positive && *d < absl::ZeroDuration()) {
      Error(n, absl::StrCat(name, " must not be negative"));
      return std::nullopt;
    }
    return *d;
  }

  std::optional<absl::Time> Date(const YAML::Node& n, absl::string_view name) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      absl::CivilDay day;
      if (s.size() == 10 && absl::ParseCivilTime(s, &day) && absl::FormatCivilTime(day) == s) {
        absl::TimeZone::TimeInfo ti = zone_.At(absl::CivilSecond(day));
        return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
      }
      static const char* const kFormats[] = {"%Y-%m-%d%ET%H:%M:%E*S%Ez",
                                             "%Y-%m-%d%ET%H:%M:%E*S",
                                             "%Y-%m-%d%ET%H:%M%Ez",
                                             "%Y-%m-%d%ET%H:%M",
                                             "%Y-%m-%d %H:%M:%E*S%Ez",
                                             "%Y-%m-%d %H:%M:%E*S",
                                             "%Y-%m-%d %H:%M"};
      for (const char* f : kFormats) {
        absl::Time t;
        std::string err;
        if (absl::ParseTime(f, s, zone_, &t, &err)) return t;
      }
    }
    Error(n, absl::StrCat(name, ": invalid date '", n.IsScalar() ? n.Scalar() : "",
                          "' (expected YYYY-MM-DD or an ISO 8601 timestamp like "
                          "2024-01-01T00:00:00Z)"));
    return std::nullopt;
  }

  // Checks every string scalar under `n` (map values and sequence items) as a template.
  void CheckTemplates(const YAML::Node& n) {
    if (n.IsScalar()) {
      absl::Status st = CheckTemplate(n.Scalar(), param_names_);
      if (!st.ok()) Error(n, std::string(st.message()));
    } else if (n.IsSequence()) {
      for (const auto& item : n) CheckTemplates(item);
    } else if (n.IsMap()) {
      for (const auto& kv : n) CheckTemplates(kv.second);
    }
  }

  void Validate(const YAML::Node& root) {
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

    // The zone first: dates and the schedule are read in it.
    zone_ = absl::UTCTimeZone();
    if (YAML::Node tz = root["timezone"]; tz && !tz.IsNull()) {
      if (auto s = String(tz, "timezone")) {
        if (absl::LoadTimeZone(*s, &zone_)) {
          dag_.timezone = *s;
        } else {
          zone_ = absl::UTCTimeZone();
          Error(tz, absl::StrCat("unknown timezone '", *s, "'"));
        }
      }
    }

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

    YAML::Node schedule = root["schedule"];
    if (schedule && !schedule.IsNull()) {
      if (auto s = String(schedule, "schedule"); s && !s->empty()) {
        // The syntax only: a missing start_date (which @every counts from) is reported below.
        auto parsed = Schedule::Parse(*s, dag_.timezone, absl::UnixEpoch());
        if (!parsed.ok()) {
          Error(schedule, absl::StrCat("invalid schedule '", *s, "': ", parsed.status().message()));
        }
        dag_.schedule = *s;
      }
    }
    YAML::Node start = root["start_date"];
    if (start && !start.IsNull()) dag_.start_date = Date(start, "start_date");
    YAML::Node end = root["end_date"];
    if (end && !end.IsNull()) dag_.end_date = Date(end, "end_date");
    if (dag_.start_date && dag_.end_date && *dag_.end_date < *dag_.start_date) {
      Error(end, absl::StrCat("end_date ", end.Scalar(), " is before start_date ", start.Scalar()));
    }
    if (!dag_.schedule.empty() && !(start && !start.IsNull())) {
      Error(schedule, absl::StartsWithIgnoreCase(dag_.schedule, "@every")
                          ? "a scheduled DAG needs start_date (@every intervals are counted from it)"
                          : "a scheduled DAG needs start_date (the first data interval starts there)");
    }
    if (!dag_.schedule.empty()) {
      auto parsed = Schedule::Parse(dag_.schedule, dag_.timezone, dag_.start_date);
      absl::Time from = std::max(dag_.start_date.value_or(absl::InfinitePast()), absl::Now());
      if (parsed.ok()) {
        if (auto w = parsed->EitherRuleWarning(from - absl::Nanoseconds(1))) Warning(schedule, *w);
      }
    }
    if (YAML::Node c = root["catchup"]; c && !c.IsNull()) {
      if (auto b = Bool(c, "catchup")) dag_.catchup = *b;
    }
    if (YAML::Node n = root["max_active_runs"]; n && !n.IsNull()) {
      if (auto v = Int(n, "max_active_runs", 1, "a positive integer")) dag_.max_active_runs = *v;
    }
    if (YAML::Node n = root["max_active_tasks"]; n && !n.IsNull()) {
      if (auto v = Int(n, "max_active_tasks", 1, "a positive integer")) dag_.max_active_tasks = *v;
    }
    if (YAML::Node n = root["sla"]; n && !n.IsNull()) dag_.sla = ReadDeadline(n, "sla");

    YAML::Node params = root["params"];
    if (params && !params.IsNull()) {
      for (auto& p : ReadDagParams(params, !dag_.schedule.empty(), &dag_, &param_names_)) {
        Error(p.node, std::move(p.message));
      }
      if (params.IsMap()) {
        for (const auto& kv : params) {
          if (kv.second.IsScalar()) CheckTemplates(kv.second);
        }
      }
    }

    TaskDefaults defaults;
    if (YAML::Node d = root["defaults"]; d && !d.IsNull()) {
      if (!d.IsMap()) {
        Error(d, "defaults must be a mapping");
      } else {
        CheckKeys(d, DefaultsKeys(), "defaults");
        ReadTaskFields(d, &defaults);
      }
    }

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

  // retries, retry_delay, retry_backoff, max_retry_delay, timeout, pool, priority.
  void ReadTaskFields(const YAML::Node& m, TaskDefaults* out) {
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

  void ReadAlert(const YAML::Node& a) {
    if (!a.IsMap()) {
      Error(a, absl::StrCat("each alert must be a mapping with 'on' and one channel (",
                            kAlertChannelList, ")"));
      return;
    }
    if (YAML::Node f = a["format"]; f) {
      Error(f, "alert 'format' was replaced: write 'slack: URL' instead of "
               "'webhook: URL' with 'format: slack'");
    }
    CheckKeys(a, AlertKeys(), "alert");
    AlertSpec spec;
    spec.loc = ToLocation(a.Mark());
    ReadAlertEvents(a, &spec);
    int channels = 0;
    if (YAML::Node w = a["webhook"]; w && !w.IsNull()) {
      ++channels;
      ReadWebhook(w, &spec);
    }
    if (YAML::Node s = a["slack"]; s && !s.IsNull()) {
      ++channels;
      if (auto url = String(s, "slack (an incoming-webhook URL)")) spec.slack = *url;
      if (spec.slack.empty()) Error(s, "slack must be an incoming-webhook URL");
    }
    if (YAML::Node p = a["pagerduty"]; p && !p.IsNull()) {
      ++channels;
      ReadPagerDuty(p, &spec);
    }
    if (YAML::Node c = a["command"]; c && !c.IsNull()) {
      ++channels;
      if (!c.IsSequence() || c.size() == 0) {
        Error(c, "alert command must be a non-empty list (argv)");
      } else {
        for (const auto& arg : c) {
          if (!arg.IsScalar()) {
            Error(arg, "alert command arguments must be strings");
            continue;
          }
          CheckTemplates(arg);
          spec.command.push_back(arg.Scalar());
        }
      }
    }
    if (channels == 0) {
      Error(a, absl::StrCat("alert needs a channel: ", kAlertChannelList));
    } else if (channels > 1) {
      Error(a, absl::StrCat("alert has more than one channel; write one alert entry per channel (",
                            kAlertChannelList, ")"));
    }
    dag_.alerts.push_back(std::move(spec));
  }

  void ReadAlertEvents(const YAML::Node& a, AlertSpec* spec) {
    YAML::Node on = a["on"];
    if (!on || on.IsNull()) {
      Error(a, absl::StrCat("alert is missing 'on' (a list of ", kAlertEventList, ")"));
      return;
    }
    std::vector<YAML::Node> events;
    if (on.IsScalar()) {
      events.push_back(on);
    } else if (on.IsSequence()) {
      for (const auto& e : on) events.push_back(e);
    } else {
      Error(on, "on must be a list of events");
    }
    for (const auto& e : events) {
      if (!e.IsScalar()) {
        Error(e, "alert events must be strings");
        continue;
      }
      const std::string& ev = e.Scalar();
      if (ev == "sla_miss") {
        Error(e, "alert event 'sla_miss' was renamed: write 'deadline_miss'");
      } else if (std::find(AlertEvents().begin(), AlertEvents().end(), ev) ==
                 AlertEvents().end()) {
        Error(e, absl::StrCat("unknown alert event '", ev, "'", DidYouMean(ev, AlertEvents()),
                              "; known: ", kAlertEventList));
      } else if (std::find(spec->on.begin(), spec->on.end(), ev) == spec->on.end()) {
        spec->on.push_back(ev);
      }
    }
  }

  // webhook: URL  or  webhook: {url: URL, headers: {Name: value}}
  void ReadWebhook(const YAML::Node& w, AlertSpec* spec) {
    if (w.IsScalar()) {
      spec->webhook = w.Scalar();
    } else if (w.IsMap()) {
      static const std::vector<std::string> kKeys = {"url", "headers"};
      CheckKeys(w, kKeys, "webhook");
      if (YAML::Node u = w["url"]; u && !u.IsNull()) {
        if (auto url = String(u, "webhook url")) spec->webhook = *url;
      }
      if (YAML::Node h = w["headers"]; h && !h.IsNull()) {
        if (!h.IsMap()) {
          Error(h, "webhook headers must be a mapping of header name to value");
        } else {
          for (const auto& kv : h) {
            auto name = String(kv.first, "header name");
            auto value = String(kv.second, "header value");
            if (!name || !value) continue;
            if (name->empty() || name->find_first_of(": \t\r\n") != std::string::npos) {
              Error(kv.first, absl::StrCat("invalid header name '", *name, "'"));
            } else if (value->find_first_of("\r\n") != std::string::npos) {
              Error(kv.second, absl::StrCat("header '", *name, "' has a line break in its value"));
            } else {
              spec->headers[*name] = *value;
            }
          }
        }
      }
    } else {
      Error(w, "webhook must be a URL or a mapping {url, headers}");
      return;
    }
    if (spec->webhook.empty()) Error(w, "webhook needs a url");
  }

  // pagerduty: {routing_key: KEY, url: ENDPOINT?}
  void ReadPagerDuty(const YAML::Node& p, AlertSpec* spec) {
    if (!p.IsMap()) {
      Error(p, "pagerduty must be a mapping {routing_key: ..., url: ...}");
      return;
    }
    static const std::vector<std::string> kKeys = {"routing_key", "url"};
    CheckKeys(p, kKeys, "pagerduty");
    if (YAML::Node k = p["routing_key"]; k && !k.IsNull()) {
      if (auto key = String(k, "pagerduty routing_key")) spec->pagerduty_routing_key = *key;
    }
    if (spec->pagerduty_routing_key.empty()) {
      Error(p, "pagerduty needs a routing_key (e.g. \"${PD_ROUTING_KEY}\")");
    }
    if (YAML::Node u = p["url"]; u && !u.IsNull()) {
      if (auto url = String(u, "pagerduty url")) spec->pagerduty_url = *url;
    }
  }

  void ReadWaitFor(const YAML::Node& w) {
    if (!w.IsMap()) {
      Error(w, "each wait_for entry must be a mapping with 'dag'");
      return;
    }
    CheckKeys(w, WaitForKeys(), "wait_for");
    WaitFor spec;
    spec.loc = ToLocation(w.Mark());
    YAML::Node dag = w["dag"];
    if (!dag || dag.IsNull()) {
      Error(w, "wait_for entry is missing 'dag'");
    } else if (auto s = String(dag, "wait_for.dag")) {
      if (!MatchesIdChars(*s, false)) {
        Error(dag, absl::StrCat("dag id '", *s, "' must match [a-z0-9_]+"));
      }
      spec.dag = *s;
    }
    if (YAML::Node t = w["task"]; t && !t.IsNull()) {
      if (auto s = String(t, "wait_for.task")) {
        if (!MatchesIdChars(*s, true)) {
          Error(t, absl::StrCat("task id '", *s, "' must match [a-z0-9_-]+"));
        }
        spec.task = *s;
      }
    }
    if (YAML::Node win = w["window"]; win && !win.IsNull()) {
      if (win.IsScalar() && win.Scalar() == "interval") {
        spec.window_is_interval = true;
      } else if (win.IsMap()) {
        CheckKeys(win, WindowKeys(), "window");
        YAML::Node from = win["from"];
        YAML::Node to = win["to"];
        if (!from || !to || from.IsNull() || to.IsNull()) {
          Error(win, "window needs both 'from' and 'to' (e.g. {from: -7d, to: 0d})");
        } else {
          spec.window_is_interval = false;
          auto f = ParseDuration(from.IsScalar() ? from.Scalar() : "");
          if (f.ok()) {
            spec.window_from = *f;
          } else {
            Error(from, absl::StrCat("window.from: ", f.status().message()));
          }
          auto t = ParseDuration(to.IsScalar() ? to.Scalar() : "");
          if (t.ok()) {
            spec.window_to = *t;
          } else {
            Error(to, absl::StrCat("window.to: ", t.status().message()));
          }
        }
      } else {
        Error(win, "window must be 'interval' or {from: -7d, to: 0d}");
      }
    }
    if (YAML::Node t = w["timeout"]; t && !t.IsNull()) {
      spec.timeout = Duration(t, "wait_for.timeout", true);
    }
    dag_.wait_for.push_back(std::move(spec));
  }

  std::optional<TaskDraft> ReadTask(const YAML::Node& t, const TaskDefaults& defaults) {
    if (!t.IsMap()) {
      Error(t, "each task must be a mapping with 'id' and 'type'");
      return std::nullopt;
    }
    CheckKeys(t, TaskKeys(), "task");
    TaskDraft draft;
    TaskSpec& spec = draft.spec;
    spec.loc = ToLocation(t.Mark());
    YAML::Node id = t["id"];
    if (!id || id.IsNull()) {
      Error(t, "task is missing 'id'");
    } else if (auto s = String(id, "task id")) {
      spec.id = *s;
      draft.id_mark = id.Mark();
      if (!MatchesIdChars(*s, true)) {
        Error(id, absl::StrCat("task id '", *s, "' must match [a-z0-9_-]+"));
      }
      auto [it, inserted] = first_task_line_.emplace(*s, id.Mark().line + 1);
      if (!inserted) {
        Error(id, absl::StrCat("duplicate task id '", *s, "' (first defined at line ", it->second,
                               ")"));
      } else {
        draft.has_id = true;
      }
    }
    const std::string name = spec.id.empty() ? std::string("?") : spec.id;

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
        spec.type = *s;
      }
    }

    if (YAML::Node needs = t["needs"]; needs && !needs.IsNull()) {
      if (needs.IsScalar()) {
        draft.need_nodes.push_back(needs);
      } else if (needs.IsSequence()) {
        for (const auto& n : needs) {
          if (!n.IsScalar()) {
            Error(n, "needs entries must be task ids");
            continue;
          }
          draft.need_nodes.push_back(n);
        }
      } else {
        Error(needs, "needs must be a list of task ids");
      }
      for (const auto& n : draft.need_nodes) {
        if (std::find(spec.needs.begin(), spec.needs.end(), n.Scalar()) == spec.needs.end()) {
          spec.needs.push_back(n.Scalar());
        }
      }
    }

    YAML::Node with = t["with"];
    if (with && !with.IsNull()) {
      if (!with.IsMap()) {
        Error(with, "with must be a mapping");
        with = YAML::Node();
      } else {
        spec.with = YAML::Clone(with);
        CheckTemplates(with);
        if (spec.type == "shell") {
          for (auto& p : CheckShellWith(with, param_names_)) {
            p.warning ? Warning(p.node, std::move(p.message)) : Error(p.node, std::move(p.message));
          }
        }
      }
    }
    CheckRequiredWith(spec, with && with.IsMap() ? &with : nullptr, t);

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
    return draft;
  }

  // `sla:` / `deadline:`: a duration (after interval_end), or {after: ANCHOR, within: DURATION}.
  std::optional<Deadline> ReadDeadline(const YAML::Node& n, absl::string_view name) {
    Deadline out;
    out.loc = ToLocation(n.Mark());
    if (n.IsScalar()) {
      auto d = Duration(n, name, true);
      if (!d) return std::nullopt;
      out.within = *d;
      return out;
    }
    if (!n.IsMap()) {
      Error(n, absl::StrCat(name, " must be a duration like 2h or {after: interval_end|",
                            "logical_date|run_start, within: 2h}"));
      return std::nullopt;
    }
    CheckKeys(n, DeadlineKeys(), name);
    YAML::Node within = n["within"];
    if (!within || within.IsNull()) {
      Error(n, absl::StrCat(name, " is missing 'within' (a duration like 2h)"));
      return std::nullopt;
    }
    auto d = Duration(within, absl::StrCat(name, ".within"), true);
    if (!d) return std::nullopt;
    out.within = *d;
    if (YAML::Node after = n["after"]; after && !after.IsNull()) {
      const std::string a = after.IsScalar() ? after.Scalar() : "";
      if (a == "interval_end") {
        out.after = DeadlineAnchor::kIntervalEnd;
      } else if (a == "logical_date") {
        out.after = DeadlineAnchor::kLogicalDate;
      } else if (a == "run_start") {
        out.after = DeadlineAnchor::kRunStart;
      } else {
        Error(after, absl::StrCat(name, ".after must be interval_end, logical_date or run_start",
                                  a.empty() ? "" : absl::StrCat(", not '", a, "'")));
        return std::nullopt;
      }
    }
    return out;
  }

  // Checks `with` (null when the task has no `with:` mapping) against the task type's declared
  // parameters (common/dag/task_params.h): unknown keys, types, allowed values, required keys,
  // expressions.
  void CheckRequiredWith(const TaskSpec& spec, const YAML::Node* with, const YAML::Node& task) {
    if (spec.type.empty()) return;
    ParamCheckOptions o;
    o.subject = absl::StrCat("task '", spec.id, "' (", spec.type, ")");
    for (auto& p : CheckTaskParams(spec.type, with != nullptr ? *with : YAML::Node(), o,
                                   task.Mark())) {
      Error(p.expr_column > 0 ? ExprMark(p.mark, p.expr_text, p.expr_column) : p.mark,
            std::move(p.message));
    }
  }

  // The position of column `column` (1-based) of expression `expr` whose value starts at
  // `value`: exact when the value is a plain or simply quoted scalar on one line, else `value`.
  YAML::Mark ExprMark(const YAML::Mark& value, const std::string& expr, int column) const {
    if (value.line < 0) return value;
    size_t begin = 0;
    for (int line = 0; line < value.line && begin != std::string::npos; ++line) {
      begin = text_.find('\n', begin);
      if (begin != std::string::npos) ++begin;
    }
    if (begin == std::string::npos) return value;
    size_t end = text_.find('\n', begin);
    absl::string_view line = absl::string_view(text_).substr(
        begin, end == std::string::npos ? std::string::npos : end - begin);
    size_t at = static_cast<size_t>(value.column);
    if (at >= line.size()) return value;
    size_t skip = 0;
    if (line[at] == '"' || line[at] == '\'') skip = 1;
    if (line.substr(at + skip, expr.size()) != expr) return value;
    if (skip == 1 && (at + 1 + expr.size() >= line.size() || line[at + 1 + expr.size()] != line[at])) {
      return value;
    }
    YAML::Mark m = value;
    m.column = value.column + static_cast<int>(skip) + column - 1;
    return m;
  }

  // Resolves `needs`, reports cycles, and stores the tasks in a stable topological order.
  void OrderTasks(std::vector<TaskDraft>& drafts) {
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

  // Finds cycles among tasks Kahn's algorithm could not order (indegree > 0) with an iterative
  // DFS in file order; reports each distinct one as "cycle: a -> b -> a" (upstream -> downstream),
  // starting at its earliest task in the file.
  void ReportCycles(const std::vector<TaskDraft>& drafts, const std::vector<std::vector<int>>& down,
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

  static Location ToLocation(const YAML::Mark& m) {
    if (m.line < 0) return {};
    return Location{m.line + 1, m.column + 1};
  }

  std::string text_;
  std::string file_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
  DagSpec dag_;
  absl::TimeZone zone_;
  std::set<std::string> param_names_;
  std::map<std::string, int> first_task_line_;
};

}  // namespace

LoadResult LoadDag(std::string_view yaml_text, std::string_view file_name) {
  return Loader(yaml_text, file_name).Run();
}

AlertsLoadResult LoadAlertsFile(std::string_view yaml_text, std::string_view file_name) {
  return Loader(yaml_text, file_name).RunAlertsFile();
}

}  // namespace de::dag
