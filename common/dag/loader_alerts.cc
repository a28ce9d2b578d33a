// The DAG loader's alerts and waits: `alerts:` entries (events, exactly one channel: webhook with
// headers, slack, pagerduty, command) — also the scheduler-wide alerts file — `wait_for:`
// entries (dag, task, window, timeout), and the `sla:` / per-task `deadline:` forms.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/dag/loader_internal.h"
#include "common/dag/suggest.h"

namespace de::dag::loader_internal {
namespace {

const std::vector<std::string>& DeadlineKeys() {
  static const std::vector<std::string> k = {"after", "within"};
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
  static const std::vector<std::string> k = {"failure",      "task_failure", "retry",
                                             "success",      "recovered",    "deadline_miss",
                                             "wait_timeout", "lease_lost"};
  return k;
}
constexpr char kAlertEventList[] =
    "failure, task_failure, retry, success, recovered, deadline_miss, wait_timeout, lease_lost";
constexpr char kAlertChannelList[] = "webhook, slack, pagerduty or command";

}  // namespace

void Loader::ReadAlert(const YAML::Node& a) {
  if (!a.IsMap()) {
    Error(a, absl::StrCat("each alert must be a mapping with 'on' and one channel (",
                          kAlertChannelList, ")"));
    return;
  }
  if (YAML::Node f = a["format"]; f) {
    Error(f,
          "alert 'format' was replaced: write 'slack: URL' instead of "
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

void Loader::ReadAlertEvents(const YAML::Node& a, AlertSpec* spec) {
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
    } else if (std::find(AlertEvents().begin(), AlertEvents().end(), ev) == AlertEvents().end()) {
      Error(e, absl::StrCat("unknown alert event '", ev, "'", DidYouMean(ev, AlertEvents()),
                            "; known: ", kAlertEventList));
    } else if (std::find(spec->on.begin(), spec->on.end(), ev) == spec->on.end()) {
      spec->on.push_back(ev);
    }
  }
}

// webhook: URL  or  webhook: {url: URL, headers: {Name: value}}
void Loader::ReadWebhook(const YAML::Node& w, AlertSpec* spec) {
  if (w.IsScalar()) {
    spec->webhook = w.Scalar();
  } else if (w.IsMap()) {
    static const std::vector<std::string> kKeys = {"url", "headers"};
    CheckKeys(w, kKeys, "webhook");
    if (YAML::Node u = w["url"]; u && !u.IsNull()) {
      if (auto url = String(u, "webhook url")) spec->webhook = *url;
    }
    if (YAML::Node h = w["headers"]; h && !h.IsNull()) ReadWebhookHeaders(h, spec);
  } else {
    Error(w, "webhook must be a URL or a mapping {url, headers}");
    return;
  }
  if (spec->webhook.empty()) Error(w, "webhook needs a url");
}

void Loader::ReadWebhookHeaders(const YAML::Node& h, AlertSpec* spec) {
  if (!h.IsMap()) {
    Error(h, "webhook headers must be a mapping of header name to value");
    return;
  }
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

// pagerduty: {routing_key: KEY, url: ENDPOINT?}
void Loader::ReadPagerDuty(const YAML::Node& p, AlertSpec* spec) {
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

void Loader::ReadWaitFor(const YAML::Node& w) {
  if (!w.IsMap()) {
    Error(w, "each wait_for entry must be a mapping with 'dag', 'path' or 'glob'");
    return;
  }
  if (w["path"] || w["glob"]) {
    ReadFileWait(w);   // loader_waits.cc
    return;
  }
  CheckKeys(w, WaitForKeys(), "wait_for");
  WaitFor spec;
  spec.loc = ToLocation(w.Mark());
  YAML::Node dag = w["dag"];
  if (!dag || dag.IsNull()) {
    Error(w, "wait_for entry is missing 'dag' (or 'path' or 'glob' for data)");
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
  if (YAML::Node win = w["window"]; win && !win.IsNull()) ReadWaitWindow(win, &spec);
  if (YAML::Node t = w["timeout"]; t && !t.IsNull()) {
    spec.timeout = Duration(t, "wait_for.timeout", true);
  }
  dag_.wait_for.push_back(std::move(spec));
}

// window: interval  or  {from: -7d, to: 0d}
void Loader::ReadWaitWindow(const YAML::Node& win, WaitFor* spec) {
  if (win.IsScalar() && win.Scalar() == "interval") {
    spec->window_is_interval = true;
    return;
  }
  if (!win.IsMap()) {
    Error(win, "window must be 'interval' or {from: -7d, to: 0d}");
    return;
  }
  CheckKeys(win, WindowKeys(), "window");
  YAML::Node from = win["from"];
  YAML::Node to = win["to"];
  if (!from || !to || from.IsNull() || to.IsNull()) {
    Error(win, "window needs both 'from' and 'to' (e.g. {from: -7d, to: 0d})");
    return;
  }
  spec->window_is_interval = false;
  auto f = ParseDuration(from.IsScalar() ? from.Scalar() : "");
  if (f.ok()) {
    spec->window_from = *f;
  } else {
    Error(from, absl::StrCat("window.from: ", f.status().message()));
  }
  auto t = ParseDuration(to.IsScalar() ? to.Scalar() : "");
  if (t.ok()) {
    spec->window_to = *t;
  } else {
    Error(to, absl::StrCat("window.to: ", t.status().message()));
  }
}

// `sla:` / `deadline:`: a duration (after interval_end), or {after: ANCHOR, within: DURATION}.
std::optional<Deadline> Loader::ReadDeadline(const YAML::Node& n, absl::string_view name) {
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

}  // namespace de::dag::loader_internal
