#include "server/alerts/payload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace de::alerts {
namespace {

using Json = nlohmann::ordered_json;

Json TimeOrNull(int64_t ms) { return ms == 0 ? Json(nullptr) : Json(IsoTime(ms)); }
Json StringOrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

// Slack mrkdwn control characters.
std::string SlackEscape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

// At most `max` bytes of `s`, cut at a UTF-8 boundary, with "..." when cut.
std::string Cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max > 3 ? max - 3 : 0;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

// The last `max` bytes of `s`, cut at a UTF-8 boundary.
std::string Tail(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t start = s.size() - max;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
  return s.substr(start);
}

const char* Emoji(const std::string& event) {
  if (event == "success" || event == "recovered") return ":large_green_circle:";
  if (event == "retry" || event == "deadline_miss" || event == "wait_timeout" ||
      event == "lease_lost") {
    return ":large_orange_circle:";
  }
  if (event == "test") return ":information_source:";
  return ":red_circle:";
}

const char* Severity(const std::string& event) {
  if (event == "failure" || event == "task_failure" || event == "lease_lost") return "error";
  if (event == "test" || event == "success" || event == "recovered") return "info";
  return "warning";
}

Json Details(const AlertPayload& p) {
  Json d = Json::object();
  d["event"] = p.event;
  d["dag"] = p.dag;
  d["run"] = StringOrNull(p.run_id);
  d["run_type"] = StringOrNull(p.run_type);
  d["task"] = StringOrNull(p.task);
  d["attempt"] = p.attempt == 0 ? Json(nullptr) : Json(p.attempt);
  d["state"] = StringOrNull(p.state);
  d["logical_date"] = TimeOrNull(p.logical_date_ms);
  d["interval"] = {{"start", TimeOrNull(p.interval_start_ms)},
                   {"end", TimeOrNull(p.interval_end_ms)}};
  if (p.deadline_ms != 0) d["deadline"] = IsoTime(p.deadline_ms);
  if (!p.previous_run_id.empty()) d["previous_run"] = p.previous_run_id;
  d["reason"] = StringOrNull(p.reason);
  d["log_tail"] = StringOrNull(p.log_tail);
  d["delivery_id"] = p.delivery_id;
  return d;
}

}  // namespace

std::string IsoTime(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string Summary(const AlertPayload& p) {
  std::string what;
  if (p.event == "failure") {
    what = "run failed";
  } else if (p.event == "task_failure") {
    what = absl::StrCat("task ", p.task, " failed");
  } else if (p.event == "retry") {
    what = absl::StrCat("task ", p.task, " attempt ", p.attempt, " failed, will retry");
  } else if (p.event == "success") {
    what = "run succeeded";
  } else if (p.event == "recovered") {
    what = "recovered: run succeeded after a failure";
  } else if (p.event == "deadline_miss") {
    what = absl::StrCat("missed its deadline ", IsoTime(p.deadline_ms));
  } else if (p.event == "wait_timeout") {
    what = "gave up waiting (wait_for timed out)";
  } else if (p.event == "lease_lost") {
    what = absl::StrCat("task ", p.task, " lost its worker (lease expired)");
  } else if (p.event == "test") {
    what = "test alert (dectl alerts test)";
  } else {
    what = p.event;
  }
  std::string s = absl::StrCat("de: ", p.dag);
  if (!p.run_id.empty()) absl::StrAppend(&s, " run ", p.run_id);
  absl::StrAppend(&s, ": ", what);
  if (!p.reason.empty()) absl::StrAppend(&s, " (", p.reason, ")");
  return s;
}

std::string WebhookBody(const AlertPayload& p) {
  Json j = Json::object();
  j["version"] = kWebhookBodyVersion;
  j["delivery_id"] = p.delivery_id;
  j["event"] = p.event;
  j["at"] = TimeOrNull(p.at_ms);
  j["dag"] = p.dag;
  j["dag_version"] = p.dag_version;
  j["run"] = StringOrNull(p.run_id);
  j["run_type"] = StringOrNull(p.run_type);
  j["task"] = StringOrNull(p.task);
  j["attempt"] = p.attempt == 0 ? Json(nullptr) : Json(p.attempt);
  j["state"] = StringOrNull(p.state);
  j["logical_date"] = TimeOrNull(p.logical_date_ms);
  j["interval"] = {{"start", TimeOrNull(p.interval_start_ms)},
                   {"end", TimeOrNull(p.interval_end_ms)}};
  j["deadline"] = TimeOrNull(p.deadline_ms);
  j["previous_run"] = StringOrNull(p.previous_run_id);
  j["reason"] = StringOrNull(p.reason);
  j["log_tail"] = StringOrNull(p.log_tail);
  j["link"] = StringOrNull(p.link);
  j["summary"] = Summary(p);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SlackBody(const AlertPayload& p) {
  std::string text = absl::StrCat(Emoji(p.event), " ", Summary(p));
  Json blocks = Json::array();
  std::string head = absl::StrCat(Emoji(p.event), " *", SlackEscape(p.event), "* in `",
                                  SlackEscape(p.dag), "`");
  if (!p.run_id.empty()) absl::StrAppend(&head, " run `", SlackEscape(p.run_id), "`");
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", head}}}});
  Json fields = Json::array();
  auto field = [&](const std::string& name, const std::string& value) {
    if (value.empty()) return;
    fields.push_back({{"type", "mrkdwn"},
                      {"text", absl::StrCat("*", name, "*\n", SlackEscape(Cut(value, 1900)))}});
  };
  field("Task", p.task.empty() ? "" : absl::StrCat(p.task, p.attempt > 0
                                                                ? absl::StrCat(" (attempt ",
                                                                               p.attempt, ")")
                                                                : ""));
  field("State", p.state);
  if (p.interval_start_ms != 0 || p.interval_end_ms != 0) {
    field("Interval", absl::StrCat(IsoTime(p.interval_start_ms), " to ",
                                   IsoTime(p.interval_end_ms)));
  }
  if (p.deadline_ms != 0) field("Deadline", IsoTime(p.deadline_ms));
  field("Reason", p.reason);
  if (!fields.empty()) blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (!p.log_tail.empty()) {
    std::string log = absl::StrReplaceAll(Tail(p.log_tail, 2500), {{"```", "'''"}});
    blocks.push_back({{"type", "section"},
                      {"text", {{"type", "mrkdwn"},
                                {"text", absl::StrCat("```", SlackEscape(log), "```")}}}});
  }
  std::string context = absl::StrCat("delivery ", p.delivery_id);
  if (!p.link.empty()) {
    context = absl::StrCat("<", SlackEscape(p.link), "|open run> · ", context);
  }
  blocks.push_back({{"type", "context"},
                    {"elements", Json::array({{{"type", "mrkdwn"}, {"text", context}}})}});
  Json j = {{"text", Cut(text, 3000)}, {"blocks", blocks}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string PagerDutyDedupKey(const std::string& dag, const std::string& run_id) {
  return absl::StrCat("de/", dag, "/", run_id);
}

std::string PagerDutyAction(const std::string& event) {
  return event == "success" || event == "recovered" ? "resolve" : "trigger";
}

std::string PagerDutyBody(const AlertPayload& p, const std::string& action,
                          const std::string& dedup_key, const std::string& routing_key) {
  Json j = Json::object();
  j["routing_key"] = routing_key;
  j["event_action"] = action;
  j["dedup_key"] = Cut(dedup_key, 255);
  if (action == "trigger") {
    Json payload = Json::object();
    payload["summary"] = Cut(Summary(p), 1024);
    payload["source"] = "de-scheduler";
    payload["severity"] = Severity(p.event);
    payload["timestamp"] = TimeOrNull(p.at_ms);
    payload["component"] = p.dag;
    payload["group"] = p.task.empty() ? p.dag : p.task;
    payload["class"] = p.event;
    payload["custom_details"] = Details(p);
    j["payload"] = payload;
    j["client"] = "de";
    if (!p.link.empty()) {
      j["client_url"] = p.link;
      j["links"] = Json::array({{{"href", p.link}, {"text", absl::StrCat("run ", p.run_id)}}});
    }
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ReadLogTail(const std::string& path, int max_lines, int64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  std::string data;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    int64_t start = st.st_size > max_bytes ? st.st_size - max_bytes : 0;
    data.resize(static_cast<size_t>(st.st_size - start));
    ssize_t n = ::pread(fd, data.data(), data.size(), start);
    data.resize(n > 0 ? static_cast<size_t>(n) : 0);
    if (start > 0) {   // drop the partial first line
      size_t nl = data.find('\n');
      data = nl == std::string::npos ? data : data.substr(nl + 1);
    }
  }
  ::close(fd);
  while (!data.empty() && data.back() == '\n') data.pop_back();
  size_t pos = data.size();
  for (int lines = 0; lines < max_lines && pos != std::string::npos && pos > 0; ++lines) {
    pos = data.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos < data.size() && data[pos] == '\n') ++pos;
  if (pos == std::string::npos) pos = 0;
  return data.substr(pos);
}

std::string NewDeliveryId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;   // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;   // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

}  // namespace de::alerts
