#include "common/dag/schedule.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/status.h"

namespace de::dag {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::vector<std::string>* names;  // names[i] means value min + i; may be null
};

const std::vector<std::string>& MonthNames() {
  static const std::vector<std::string> kNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  return kNames;
}

const std::vector<std::string>& DayNames() {
  static const std::vector<std::string> kNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  return kNames;
}

// Field specs in order. Day-of-week accepts 0-7 (7 = Sunday, folded to 0 by the caller).
const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr},         {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},   {"month", 1, 12, &MonthNames()},
    {"day-of-week", 0, 7, &DayNames()},
};

std::string FieldPrefix(int index) {
  return absl::StrCat("field ", index + 1, " (", kFields[index].name, "): ");
}

absl::StatusOr<int> ParseValue(absl::string_view text, int index) {
  const FieldSpec& f = kFields[index];
  if (f.names != nullptr) {
    std::string upper = absl::AsciiStrToUpper(text);
    for (size_t i = 0; i < f.names->size(); ++i) {
      if ((*f.names)[i] == upper) return f.min + static_cast<int>(i);
    }
  }
  int v = 0;
  if (text.empty() || !absl::SimpleAtoi(text, &v) ||
      text.find_first_not_of("0123456789") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(FieldPrefix(index), "'", text,
                                                   "' is not a number",
                                                   f.names != nullptr ? " or a name" : ""));
  }
  if (v < f.min || v > f.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(FieldPrefix(index), v, " is out of range ", f.min, "-", f.max));
  }
  return v;
}

// What a field holds beyond plain values: 'L' (day-of-month) and DAY#N (day-of-week).
struct FieldExtras {
  bool last = false;
  std::vector<std::pair<int, int>> nth;  // (day of week 0-6, N 1-5)
};

// Refuses cron extensions that are not supported, saying why.
absl::Status CheckUnsupported(absl::string_view part, int index) {
  std::string upper = absl::AsciiStrToUpper(part);
  auto err = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(FieldPrefix(index), "'", part, "' ", why));
  };
  if (upper == "?") return err("is not supported (use '*')");
  if (upper.find('#') != std::string::npos && index != 4) {
    return err("is not supported: '#' (Nth weekday) is only allowed in day-of-week");
  }
  if (index == 2 && upper.find('W') != std::string::npos) {
    return err("is not supported: 'W' (nearest weekday) is not implemented");
  }
  if (index == 2 && upper.find('L') != std::string::npos && upper != "L") {
    return err("is not supported: only a plain 'L' (last day of the month) is allowed");
  }
  if (index == 4 && upper.size() > 1 && upper.back() == 'L' && upper.find('#') == std::string::npos) {
    return err(
        "is not supported: 'L' (last weekday of the month) is not implemented; day-of-month "
        "accepts 'L'");
  }
  if (index != 2 && upper == "L") return err("is not supported: 'L' is only allowed in day-of-month");
  return absl::OkStatus();
}

// Parses "DAY#N" (day-of-week only) into extras.
absl::Status ParseNth(absl::string_view part, int index, FieldExtras* extras) {
  size_t hash = part.find('#');
  absl::string_view day = part.substr(0, hash);
  absl::string_view n_text = part.substr(hash + 1);
  if (day.find_first_of("-/,*") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        FieldPrefix(index), "'", part, "': DAY#N takes a single day, not a range or step"));
  }
  auto d = ParseValue(day, index);
  if (!d.ok()) return d.status();
  int n = 0;
  if (!absl::SimpleAtoi(n_text, &n) || n_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      n < 1 || n > 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        FieldPrefix(index), "'", part, "': N in DAY#N must be 1-5 (a month has at most 5)"));
  }
  extras->nth.emplace_back(*d % 7, n);
  return absl::OkStatus();
}

// Parses one field into a vector of allowed values (indexed by value), plus its extras.
absl::StatusOr<std::vector<bool>> ParseField(absl::string_view text, int index,
                                             FieldExtras* extras) {
  const FieldSpec& f = kFields[index];
  std::vector<bool> allowed(f.max + 1, false);
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(FieldPrefix(index), "empty"));
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(FieldPrefix(index), "empty list element in '", text, "'"));
    }
    DE_RETURN_IF_ERROR(CheckUnsupported(part, index));
    if (index == 2 && (part == "L" || part == "l")) {
      extras->last = true;
      continue;
    }
    if (index == 4 && part.find('#') != absl::string_view::npos) {
      DE_RETURN_IF_ERROR(ParseNth(part, index, extras));
      continue;
    }
    absl::string_view range = part;
    int64_t step = 1;
    size_t slash = part.find('/');
    if (slash != absl::string_view::npos) {
      range = part.substr(0, slash);
      absl::string_view step_text = part.substr(slash + 1);
      if (!absl::SimpleAtoi(step_text, &step) ||
          step_text.find_first_not_of("0123456789") != absl::string_view::npos || step <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(FieldPrefix(index), "step '", step_text, "' must be a positive number"));
      }
      // A step larger than the range selects only its start ("*/60" in minutes is minute 0).
    }
    int lo = 0;
    int hi = 0;
    if (range == "*") {
      lo = f.min;
      hi = index == 4 ? 6 : f.max;  // day-of-week '*' is 0-6 (7 would double Sunday)
    } else {
      size_t dash = range.find('-');
      if (dash == absl::string_view::npos) {
        auto v = ParseValue(range, index);
        if (!v.ok()) return v.status();
        lo = *v;
        // "5/15" means 5-max/15 as in common cron implementations.
        hi = slash != absl::string_view::npos ? f.max : *v;
      } else {
        auto a = ParseValue(range.substr(0, dash), index);
        if (!a.ok()) return a.status();
        auto b = ParseValue(range.substr(dash + 1), index);
        if (!b.ok()) return b.status();
        lo = *a;
        hi = *b;
        if (lo > hi) {
          return absl::InvalidArgumentError(
              absl::StrCat(FieldPrefix(index), "range '", range, "' goes backwards"));
        }
      }
    }
    for (int64_t v = lo; v <= hi; v += step) allowed[v] = true;
  }
  return allowed;
}

std::optional<std::string> ExpandMacro(absl::string_view expr) {
  std::string lower = absl::AsciiStrToLower(expr);
  if (lower == "@hourly") return "0 * * * *";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@quarterly") return "0 0 1 1,4,7,10 *";
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  return std::nullopt;
}

int DaysInMonth(int month) {
  static const int kDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month];
}

// Searches give up after this many years without a match (only reachable for schedules that
// match very rarely, which Parse rejects when they never match).
constexpr int kSearchYears = 500;

}  // namespace

absl::StatusOr<Schedule> Schedule::Parse(std::string_view expr_in, std::string_view timezone_in,
                                         std::optional<absl::Time> anchor) {
  absl::string_view expr(expr_in.data(), expr_in.size());
  absl::string_view timezone(timezone_in.data(), timezone_in.size());
  Schedule s;
  s.expr_ = std::string(expr);
  std::string tz = timezone.empty() ? "UTC" : std::string(timezone);
  if (!absl::LoadTimeZone(tz, &s.zone_)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone '", tz, "'"));
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(expr);
  std::string fields_text;
  if (absl::StartsWithIgnoreCase(trimmed, "@every") &&
      (trimmed.size() == 6 || absl::ascii_isspace(trimmed[6]))) {
    DE_RETURN_IF_ERROR(s.SetEvery(std::string_view(trimmed.data(), trimmed.size()), anchor));
    return s;
  }
  if (!trimmed.empty() && trimmed[0] == '@') {
    std::optional<std::string> expanded = ExpandMacro(trimmed);
    if (!expanded) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown macro '", trimmed,
          "' (use @hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, @annually or "
          "@every DURATION)"));
    }
    fields_text = *expanded;
  } else {
    fields_text = std::string(trimmed);
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(fields_text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected 5 fields (minute hour day-of-month month day-of-week), got ", fields.size()));
  }
  for (int i = 0; i < 5; ++i) {
    FieldExtras extras;
    auto allowed = ParseField(fields[i], i, &extras);
    if (!allowed.ok()) return allowed.status();
    const std::vector<bool>& a = *allowed;
    for (int v = 0; v < static_cast<int>(a.size()); ++v) {
      if (!a[v]) continue;
      switch (i) {
        case 0:
          s.minutes_.set(v);
          break;
        case 1:
          s.hours_.set(v);
          break;
        case 2:
          s.days_of_month_.set(v);
          break;
        case 3:
          s.months_.set(v);
          break;
        case 4:
          s.days_of_week_.set(v % 7);
          break;
      }
    }
    if (i == 2) s.last_dom_ = extras.last;
    for (const auto& [dow, n] : extras.nth) s.nth_dow_.set(dow * 5 + (n - 1));
  }
  // A field is restricted unless it selects every value ('*', or a full range like 1-31).
  s.dom_restricted_ = (s.days_of_month_ >> 1).count() != 31;
  s.dow_restricted_ = !s.days_of_week_.all();
  // '*' or '*/N' in the hour field (or every hour listed): hourly and sub-hourly schedules.
  s.real_time_ = s.hours_.all() || absl::StartsWith(fields[1], "*");
  // Reject day-of-month/month combinations that can never happen (e.g. "0 0 30 2 *").
  if ((!s.dow_restricted_ || !s.dom_restricted_) && !s.SomeDayOfMonthExists()) {
    return absl::InvalidArgumentError(
        "field 3 (day-of-month): no selected day exists in any selected month");
  }
  return s;
}

bool Schedule::SomeDayOfMonthExists() const {
  for (int m = 1; m <= 12; ++m) {
    if (!months_[m]) continue;
    for (int d = 1; d <= DaysInMonth(m); ++d) {
      if (days_of_month_[d] || last_dom_) return true;
    }
  }
  return false;
}

namespace {

int DowIndex(absl::CivilDay d) {
  switch (absl::GetWeekday(d)) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

}  // namespace

namespace {

// The schedule's matching rules over civil minutes, and the civil->absolute mapping.
struct Rules {
  const std::bitset<60>& minutes_;
  const std::bitset<24>& hours_;
  const std::bitset<32>& days_of_month_;
  const std::bitset<13>& months_;
  const std::bitset<7>& days_of_week_;
  bool dom_restricted_;
  bool dow_restricted_;
  bool last_dom_;
  const std::bitset<35>& nth_dow_;
  const absl::TimeZone& zone_;
};

class ScheduleMatcher {
 public:
  explicit ScheduleMatcher(const Rules& s) : s_(s) {}

  bool DayMatches(absl::CivilDay d) const {
    bool dom = s_.days_of_month_[d.day()] ||
               (s_.last_dom_ && (absl::CivilDay(absl::CivilMonth(d) + 1) - 1) == d);
    int w = DowIndex(d);
    bool dow = s_.days_of_week_[w] || s_.nth_dow_[w * 5 + (d.day() - 1) / 7];
    if (s_.dom_restricted_ && s_.dow_restricted_) return dom || dow;
    return dom && dow;
  }

  // Smallest matching civil minute >= c, or nullopt.
  std::optional<absl::CivilMinute> NextMatch(absl::CivilMinute c) const {
    const absl::civil_year_t limit = c.year() + kSearchYears;
    while (c.year() < limit) {
      if (!s_.months_[c.month()]) {
        c = absl::CivilMinute(absl::CivilMonth(c) + 1);
      } else if (!DayMatches(absl::CivilDay(c))) {
        c = absl::CivilMinute(absl::CivilDay(c) + 1);
      } else if (!s_.hours_[c.hour()]) {
        c = absl::CivilMinute(absl::CivilHour(c) + 1);
      } else if (!s_.minutes_[c.minute()]) {
        int m = c.minute() + 1;
        while (m < 60 && !s_.minutes_[m]) ++m;
        c = absl::CivilMinute(absl::CivilHour(c)) + m;  // m == 60 rolls into the next hour
      } else {
        return c;
      }
    }
    return std::nullopt;
  }

  // Largest matching civil minute <= c, or nullopt.
  std::optional<absl::CivilMinute> PrevMatch(absl::CivilMinute c) const {
    const absl::civil_year_t limit = c.year() - kSearchYears;
    while (c.year() > limit) {
      if (!s_.months_[c.month()]) {
        c = absl::CivilMinute(absl::CivilMonth(c)) - 1;
      } else if (!DayMatches(absl::CivilDay(c))) {
        c = absl::CivilMinute(absl::CivilDay(c)) - 1;
      } else if (!s_.hours_[c.hour()]) {
        c = absl::CivilMinute(absl::CivilHour(c)) - 1;
      } else if (!s_.minutes_[c.minute()]) {
        int m = c.minute() - 1;
        while (m >= 0 && !s_.minutes_[m]) --m;
        c = absl::CivilMinute(absl::CivilHour(c)) + m;  // m == -1 rolls into the previous hour
      } else {
        return c;
      }
    }
    return std::nullopt;
  }

  // The instant a matching civil minute fires at (see the DST rule in schedule.h).
  absl::Time Fire(absl::CivilMinute c) const {
    absl::TimeZone::TimeInfo ti = s_.zone_.At(absl::CivilSecond(c));
    switch (ti.kind) {
      case absl::TimeZone::TimeInfo::SKIPPED:
        return ti.trans;
      case absl::TimeZone::TimeInfo::REPEATED:
        return ti.pre;
      case absl::TimeZone::TimeInfo::UNIQUE:
        break;
    }
    return ti.pre;
  }

 private:
  const Rules& s_;
};

}  // namespace

// Fire() is monotonic non-decreasing in civil time, so the tick after t is Fire() of the first
// matching civil minute whose firing instant is > t; every civil minute <= the local time of t
// fires at or before t, so the search starts just after it.
absl::Time Schedule::Next(absl::Time t) const {
  if (t == absl::InfiniteFuture()) return t;
  if (t == absl::InfinitePast()) return t;
  if (every_ > absl::ZeroDuration()) return NextEvery(t);
  if (real_time_) return NextRealTime(t);
  Rules rules{minutes_,        hours_,          days_of_month_, months_,   days_of_week_,
              dom_restricted_, dow_restricted_, last_dom_,      nth_dow_, zone_};
  ScheduleMatcher m(rules);
  absl::CivilMinute c = absl::CivilMinute(zone_.At(t).cs) + 1;
  for (;;) {
    std::optional<absl::CivilMinute> match = m.NextMatch(c);
    if (!match) return absl::InfiniteFuture();
    absl::Time fire = m.Fire(*match);
    if (fire > t) return fire;
    c = *match + 1;  // inside a repeated hour, t is in its second occurrence
  }
}

absl::Time Schedule::Prev(absl::Time t) const {
  if (t == absl::InfinitePast()) return t;
  if (t == absl::InfiniteFuture()) return t;
  if (every_ > absl::ZeroDuration()) return PrevEvery(t);
  if (real_time_) return PrevRealTime(t);
  Rules rules{minutes_,        hours_,          days_of_month_, months_,   days_of_week_,
              dom_restricted_, dow_restricted_, last_dom_,      nth_dow_, zone_};
  ScheduleMatcher m(rules);
  absl::CivilMinute c = absl::CivilMinute(zone_.At(t).cs);
  // If t lies in the second occurrence of a repeated range, civil minutes up to the end of the
  // first occurrence fire before t too.
  absl::TimeZone::TimeInfo ti = zone_.At(absl::CivilSecond(c));
  if (ti.kind == absl::TimeZone::TimeInfo::REPEATED && t >= ti.trans) {
    absl::CivilMinute first_end = absl::CivilMinute(zone_.At(ti.trans - absl::Seconds(1)).cs);
    if (first_end > c) c = first_end;
  }
  for (;;) {
    std::optional<absl::CivilMinute> match = m.PrevMatch(c);
    if (!match) return absl::InfinitePast();
    absl::Time fire = m.Fire(*match);
    if (fire < t) return fire;
    c = *match - 1;
  }
}

namespace {

// The instant civil minute `c` denotes at UTC offset `offset_seconds`.
absl::Time AtOffset(absl::CivilMinute c, int offset_seconds) {
  return absl::FromCivil(absl::CivilSecond(c), absl::UTCTimeZone()) - absl::Seconds(offset_seconds);
}

// The civil time of instant `t` at UTC offset `offset_seconds`.
absl::CivilSecond CivilAt(absl::Time t, int offset_seconds) {
  return absl::ToCivilSecond(t + absl::Seconds(offset_seconds), absl::UTCTimeZone());
}

// Bound on the offset segments one search crosses (a few transitions a year).
constexpr int kMaxSegments = 8 * kSearchYears;

}  // namespace

// Real-time rule: a tick is every instant whose local time (at the offset in force then) matches.
// Between transitions the offset is constant and local time increases with absolute time, so
// each offset segment is searched in civil time, and the search moves on segment by segment.
absl::Time Schedule::NextRealTime(absl::Time t) const {
  Rules rules{minutes_,        hours_,          days_of_month_, months_,   days_of_week_,
              dom_restricted_, dow_restricted_, last_dom_,      nth_dow_, zone_};
  ScheduleMatcher m(rules);
  absl::Time after = t;   // exclusive lower bound
  absl::Time probe = t;   // an instant inside the current segment
  for (int i = 0; i < kMaxSegments; ++i) {
    int offset = zone_.At(probe).offset;
    absl::Time seg_end = absl::InfiniteFuture();
    absl::TimeZone::CivilTransition tr;
    if (zone_.NextTransition(probe, &tr)) seg_end = zone_.At(tr.to).trans;
    std::optional<absl::CivilMinute> match = m.NextMatch(absl::CivilMinute(CivilAt(after, offset)) + 1);
    if (!match) return absl::InfiniteFuture();
    absl::Time fire = AtOffset(*match, offset);
    if (fire < seg_end) return fire;
    after = seg_end - absl::Nanoseconds(1);
    probe = seg_end;
  }
  return absl::InfiniteFuture();
}

absl::Time Schedule::PrevRealTime(absl::Time t) const {
  Rules rules{minutes_,        hours_,          days_of_month_, months_,   days_of_week_,
              dom_restricted_, dow_restricted_, last_dom_,      nth_dow_, zone_};
  ScheduleMatcher m(rules);
  absl::Time before = t;  // exclusive upper bound
  for (int i = 0; i < kMaxSegments; ++i) {
    absl::Time probe = before - absl::Nanoseconds(1);
    int offset = zone_.At(probe).offset;
    absl::Time seg_start = absl::InfinitePast();
    absl::TimeZone::CivilTransition tr;
    if (zone_.PrevTransition(before, &tr)) seg_start = zone_.At(tr.to).trans;
    std::optional<absl::CivilMinute> match = m.PrevMatch(absl::CivilMinute(CivilAt(probe, offset)));
    if (!match) return absl::InfinitePast();
    absl::Time fire = AtOffset(*match, offset);
    if (fire >= seg_start) return fire;
    before = seg_start;
  }
  return absl::InfinitePast();
}

std::vector<absl::CivilDay> Schedule::NextDays(absl::Time from, int n) const {
  std::vector<absl::CivilDay> days;
  absl::Time t = from;
  while (static_cast<int>(days.size()) < n) {
    t = Next(t);
    if (t == absl::InfiniteFuture()) break;
    absl::CivilDay d(zone_.At(t).cs);
    if (days.empty() || days.back() != d) days.push_back(d);
  }
  return days;
}

std::optional<std::string> Schedule::EitherRuleWarning(absl::Time from, int n) const {
  if (!UsesEitherDayRule()) return std::nullopt;
  std::string days;
  for (absl::CivilDay d : NextDays(from, n)) {
    absl::StrAppend(&days, days.empty() ? "" : ", ",
                    absl::FormatTime("%Y-%m-%d %a", absl::FromCivil(d, absl::UTCTimeZone()),
                                     absl::UTCTimeZone()));
  }
  return absl::StrCat(
      "schedule '", expr_,
      "': day-of-month and day-of-week are both restricted, so cron's \"either\" rule applies (a "
      "day matches when EITHER field matches, not both); next days: ",
      days, days.empty() ? "none" : "");
}

bool Schedule::IsTick(absl::Time t) const {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return false;
  return Next(t - absl::Nanoseconds(1)) == t;
}

DataInterval Schedule::FirstIntervalAtOrAfter(absl::Time t) const {
  absl::Time start = IsTick(t) ? t : Next(t);
  return DataInterval{start, Next(start)};
}

DataInterval Schedule::IntervalStartingAt(absl::Time start) const {
  return DataInterval{start, Next(start)};
}

std::optional<DataInterval> Schedule::LatestCompleteInterval(absl::Time now,
                                                             absl::Time not_before) const {
  absl::Time end = IsTick(now) ? now : Prev(now);
  if (end == absl::InfinitePast()) return std::nullopt;
  absl::Time start = Prev(end);
  if (start == absl::InfinitePast() || start < not_before) return std::nullopt;
  return DataInterval{start, end};
}

}  // namespace de::dag
