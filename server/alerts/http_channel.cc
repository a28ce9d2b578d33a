// The HTTP alert channels (webhook, Slack, PagerDuty) and the libcurl poster.
#include <curl/curl.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "nlohmann/json.hpp"
#include "server/alerts/channel.h"
#include "server/alerts/env.h"

namespace de::alerts {
namespace {

constexpr size_t kMaxResponse = 2048;

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  size_t len = size * n;
  if (s->size() < kMaxResponse) s->append(data, std::min(len, kMaxResponse - s->size()));
  return len;
}

class CurlPoster : public HttpPoster {
 public:
  CurlPoster() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  HttpResponse Post(const std::string& url, const std::map<std::string, std::string>& headers,
                    const std::string& body, absl::Duration timeout) override {
    HttpResponse resp;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      resp.error = "curl_easy_init failed";
      return resp;
    }
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(timeout)));
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      resp.status = static_cast<int>(status);
    } else {
      resp.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return resp;
  }
};

class HttpChannel : public AlertChannel {
 public:
  explicit HttpChannel(HttpPoster* poster) : poster_(poster) {}

  DeliveryResult Deliver(const OutboxRow& row, absl::Duration timeout) override {
    DeliveryResult bad;
    bad.permanent = true;
    nlohmann::json target = nlohmann::json::parse(row.target, nullptr, false);
    if (!target.is_object()) {
      bad.error = "outbox target is not a JSON object";
      return bad;
    }
    std::vector<std::string> secrets;
    std::map<std::string, std::string> headers = {
        {"Content-Type", "application/json"},
        {"User-Agent", absl::StrCat("de-scheduler/", common::Version())},
        {"X-De-Delivery-Id", row.delivery_id},
        {"X-De-Event", row.event}};
    std::string url_ref = target.value("url", "");
    std::string body = row.body;
    if (row.channel == "pagerduty") {
      if (url_ref.empty()) url_ref = kPagerDutyEventsUrl;
      auto key = ExpandEnv(target.value("routing_key", ""), &secrets);
      if (!key.ok()) {
        bad.error = absl::StrCat("pagerduty routing_key: ", key.status().message());
        return bad;
      }
      nlohmann::ordered_json b = nlohmann::ordered_json::parse(row.body, nullptr, false);
      if (!b.is_object()) {
        bad.error = "outbox body is not a JSON object";
        return bad;
      }
      b["routing_key"] = *key;
      body = b.dump();
    } else if (row.channel == "webhook" && target.contains("headers") &&
               target["headers"].is_object()) {
      for (const auto& [name, value] : target["headers"].items()) {
        if (!value.is_string()) continue;
        auto v = ExpandEnv(value.get<std::string>(), &secrets);
        if (!v.ok()) {
          bad.error = absl::StrCat("header ", name, ": ", v.status().message());
          return bad;
        }
        headers[name] = *v;
      }
    }
    auto url = ExpandEnv(url_ref, &secrets);
    if (!url.ok()) {
      bad.error = absl::StrCat(row.channel, " url: ", url.status().message());
      return bad;
    }
    HttpResponse resp = poster_->Post(*url, headers, body, timeout);
    DeliveryResult r;
    if (resp.status == 0) {
      r.error = resp.error.empty() ? "no response" : resp.error;
    } else {
      r = ClassifyHttpStatus(resp.status, resp.body);
    }
    r.error = Redact(r.error, secrets);
    return r;
  }

 private:
  HttpPoster* poster_;
};

}  // namespace

DeliveryResult ClassifyHttpStatus(int status, const std::string& response_excerpt) {
  DeliveryResult r;
  r.status = status;
  if (status >= 200 && status < 300) {
    r.ok = true;
    return r;
  }
  r.permanent = status >= 400 && status < 500 && status != 408 && status != 429;
  std::string excerpt = response_excerpt.substr(0, 300);
  r.error = absl::StrCat("HTTP ", status, excerpt.empty() ? "" : ": ", excerpt);
  return r;
}

std::unique_ptr<HttpPoster> NewCurlPoster() { return std::make_unique<CurlPoster>(); }

std::unique_ptr<AlertChannel> NewHttpChannel(HttpPoster* poster) {
  return std::make_unique<HttpChannel>(poster);
}

}  // namespace de::alerts
