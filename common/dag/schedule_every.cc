// `@every DURATION` schedules: fixed intervals in absolute time from an anchor (schedule.h).
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/dag/schedule.h"
#include "common/status.h"

namespace de::dag {

absl::StatusOr<absl::Duration> ParseEveryInterval(const std::string& text_in) {
  const std::string text = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text_in));
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("@every '", text_in, "': ", why));
  };
  if (text.empty()) return bad("needs an interval, e.g. @every 15m, @every 2h30m, @every 1d");
  absl::Duration total;
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = i;
    while (digits < text.size() && absl::ascii_isdigit(text[digits])) ++digits;
    if (digits == i || digits == text.size()) {
      return bad("expected NUMBER UNIT parts with units d, h, m or s (e.g. 90m, 2h30m, 1d)");
    }
    if (digits - i > 6) return bad("number too large");
    const int64_t n = std::stoll(text.substr(i, digits - i));
    switch (text[digits]) {
      case 'd':
        total += absl::Hours(24 * n);
        break;
      case 'h':
        total += absl::Hours(n);
        break;
      case 'm':
        total += absl::Minutes(n);
        break;
      case 's':
        total += absl::Seconds(n);
        break;
      default:
        return bad(absl::StrCat("unknown unit '", std::string(1, text[digits]),
                                "' (use d, h, m or s)"));
    }
    i = digits + 1;
  }
  if (total < absl::Minutes(1)) {
    return bad("the interval must be at least 1m (each interval is a run)");
  }
  return total;
}

absl::Status Schedule::SetEvery(std::string_view expr_in, std::optional<absl::Time> anchor) {
  absl::string_view expr(expr_in.data(), expr_in.size());
  DE_ASSIGN_OR_RETURN(every_, ParseEveryInterval(std::string(expr.substr(6))));
  if (!anchor || *anchor == absl::InfinitePast() || *anchor == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", expr, "' needs start_date: @every intervals are counted from it"));
  }
  anchor_ = *anchor;
  return absl::OkStatus();
}

// Ticks are anchor_ + k * every_ for k >= 0.
absl::Time Schedule::NextEvery(absl::Time t) const {
  if (t < anchor_) return anchor_;
  absl::Duration rem;   // IDivDuration needs somewhere to put it
  const int64_t k = absl::IDivDuration(t - anchor_, every_, &rem);
  return anchor_ + (k + 1) * every_;
}

absl::Time Schedule::PrevEvery(absl::Time t) const {
  if (t <= anchor_) return absl::InfinitePast();
  absl::Duration rem;
  int64_t k = absl::IDivDuration(t - anchor_, every_, &rem);
  if (rem == absl::ZeroDuration()) --k;   // t itself is a tick: the one before it
  return anchor_ + k * every_;
}

}  // namespace de::dag
