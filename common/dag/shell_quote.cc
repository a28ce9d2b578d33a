#include "common/dag/shell_quote.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace de::dag {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
// Characters that end an unquoted word (besides blanks and newlines).
bool IsOperator(char c) { return std::strchr(";&|()<>", c) != nullptr && c != '\0'; }

bool IsInteger(absl::string_view v) {
  size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
  if (i == v.size()) return false;
  for (; i < v.size(); ++i)
    if (!absl::ascii_isdigit(static_cast<unsigned char>(v[i]))) return false;
  return true;
}

}  // namespace

ShellLexer::ShellLexer() { frames_.push_back({Frame::kTop}); }

absl::Status ShellLexer::FeedLiteral(std::string_view text) {
  for (char c : text) {
    Char(c);
    if (!error_.ok()) return error_;
  }
  return absl::OkStatus();
}

void ShellLexer::Char(char c) {
  if (in_body_) return BodyChar(c);
  if (reading_delim_) return DelimiterChar(c);
  FrameState& f = frames_.back();
  const bool fresh = fresh_subst_;  // right after "$(": a '(' makes it "$((", arithmetic
  fresh_subst_ = false;
  if (escape_) {  // the char after a backslash is literal (a newline continues the line)
    escape_ = false;
    if (f.kind != Frame::kSingle) word_start_ = false;
    return;
  }
  const bool dollar = dollar_;
  dollar_ = false;
  switch (f.kind) {
    case Frame::kSingle:
      if (c == '\'') frames_.pop_back();
      return;
    case Frame::kDouble:
      if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        frames_.pop_back();
      } else if (c == '`') {
        frames_.push_back({Frame::kBacktick});
      } else if (c == '$') {
        dollar_ = true;
      } else if (c == '(' && dollar) {
        OpenSubst();
      }
      return;
    case Frame::kBacktick:
      if (c == '\\') {
        escape_ = true;
      } else if (c == '`') {
        frames_.pop_back();
      }
      return;
    case Frame::kArith:
      if (c == '(' && dollar) {
        OpenSubst();
      } else if (c == '$') {
        dollar_ = true;
      } else if (c == '(') {
        ++f.depth;
      } else if (c == ')') {
        if (f.depth > 0) {
          --f.depth;
        } else if (f.closing) {
          frames_.pop_back();
        } else {
          f.closing = true;
        }
      }
      return;
    case Frame::kTop:
    case Frame::kSubst:
      if (fresh && c == '(') {
        f.kind = Frame::kArith;
        return;
      }
      if (dollar && c == '(') {
        OpenSubst();
        return;
      }
      UnquotedChar(c);
      return;
  }
}

void ShellLexer::UnquotedChar(char c) {
  FrameState& f = frames_.back();
  if (in_comment_) {
    if (c == '\n') {
      in_comment_ = false;
      EndLine();
    }
    return;
  }
  const bool lt = lt_;
  lt_ = false;
  const bool word_was_start = word_start_;
  if (IsBlank(c) || c == '\n' || IsOperator(c)) EndWord();
  switch (c) {
    case '\\':
      escape_ = true;
      word_start_ = false;
      return;
    case '\'':
      frames_.push_back({Frame::kSingle});
      word_start_ = false;
      return;
    case '"':
      frames_.push_back({Frame::kDouble});
      word_start_ = false;
      return;
    case '`':
      frames_.push_back({Frame::kBacktick});
      word_start_ = false;
      return;
    case '$':
      dollar_ = true;
      word_start_ = false;
      return;
    case '#':
      if (word_was_start) {
        in_comment_ = true;
        return;
      }
      word_ += c;
      return;
    case '\n':
      EndLine();
      return;
    case '(':
      if (f.kind == Frame::kSubst) ++f.depth;
      word_start_ = true;
      return;
    case ')':
      if (f.kind == Frame::kSubst && f.case_depth == 0) {
        if (f.depth == 0) {
          frames_.pop_back();
          word_start_ = false;
          return;
        }
        --f.depth;
      }
      word_start_ = true;
      return;
    case '<':
      if (lt) {
        // "<<": a here-document (unless "<<<", a here-string: see the next char).
        reading_delim_ = true;
        delim_started_ = false;
        delim_quote_ = 0;
        delim_ = Heredoc();
      } else {
        lt_ = true;
      }
      word_start_ = true;
      return;
    default:
      if (IsBlank(c) || IsOperator(c)) {
        word_start_ = true;
      } else {
        word_ += c;
        word_start_ = false;
      }
      return;
  }
}

void ShellLexer::OpenSubst() {
  frames_.push_back({Frame::kSubst});
  fresh_subst_ = true;
  word_start_ = true;
  word_.clear();
}

void ShellLexer::EndLine() {
  word_start_ = true;
  StartPendingBody();
}

void ShellLexer::StartPendingBody() {
  if (pending_.empty()) return;
  in_body_ = true;
  body_ = pending_.front();
  pending_.erase(pending_.begin());
  line_.clear();
  line_has_value_ = false;
}

void ShellLexer::EndWord() {
  FrameState& f = frames_.back();
  if (f.kind == Frame::kSubst) {
    if (word_ == "case") ++f.case_depth;
    if (word_ == "esac" && f.case_depth > 0) --f.case_depth;
  }
  word_.clear();
}

void ShellLexer::DelimiterChar(char c) {
  if (delim_quote_ != 0) {  // inside a quoted part of the delimiter word
    if (c == delim_quote_) {
      delim_quote_ = 0;
    } else {
      delim_.delimiter += c;
    }
    return;
  }
  if (!delim_started_) {
    if (c == '<' && delim_.delimiter.empty() && !delim_.strip_tabs) {  // "<<<": a here-string
      reading_delim_ = false;
      return;
    }
    if (c == '-' && !delim_.strip_tabs) {
      delim_.strip_tabs = true;
      return;
    }
    if (IsBlank(c)) return;
  }
  if (c == '\'' || c == '"') {
    delim_started_ = true;
    delim_.quoted = true;
    delim_quote_ = c;
    return;
  }
  if (c == '\\') {
    delim_started_ = true;
    delim_.quoted = true;
    return;
  }
  if (IsBlank(c) || c == '\n' || IsOperator(c)) {
    reading_delim_ = false;
    if (!delim_.delimiter.empty() || delim_.quoted) pending_.push_back(delim_);
    Char(c);  // the char that ended the word is ordinary text
    return;
  }
  delim_started_ = true;
  delim_.delimiter += c;
}

void ShellLexer::BodyChar(char c) {
  if (c == '\n') {
    error_ = EndBodyLine();
    return;
  }
  line_ += c;
  if (body_.quoted) return;
  // An expanding body: track $( ) and ` ` so that a value never lands inside a command there.
  if (c == '`') {
    body_subst_ = body_subst_ > 0 ? body_subst_ - 1 : body_subst_ + 1;
  } else if (c == '(' && body_dollar_) {
    ++body_subst_;
  } else if (c == ')' && body_subst_ > 0) {
    --body_subst_;
  }
  body_dollar_ = c == '$';
}

absl::Status ShellLexer::EndBodyLine() {
  std::string_view line = line_;
  if (body_.strip_tabs) {
    while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
  }
  const bool ends = line == body_.delimiter;
  const bool had_value = line_has_value_;
  line_.clear();
  line_has_value_ = false;
  if (ends && had_value) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a template value makes a here-document line equal to its delimiter '", body_.delimiter,
        "' (it would end the here-document early)"));
  }
  if (ends) {
    in_body_ = false;
    body_subst_ = 0;
    body_dollar_ = false;
    StartPendingBody();  // the next here-document of the same command line
  }
  return absl::OkStatus();
}

absl::Status ShellLexer::Unsafe(std::string_view name_in, std::string_view where_in) const {
  absl::string_view name(name_in.data(), name_in.size());
  absl::string_view where(where_in.data(), where_in.size());
  return absl::InvalidArgumentError(absl::StrCat("{{ ", name, " }} ", where,
                                                 ": de cannot quote a value there (use $(...) "
                                                 "or an environment variable such as "
                                                 "DE_PARAM_<NAME>, or `| raw` to opt out)"));
}

absl::StatusOr<std::string> ShellLexer::QuoteValue(std::string_view name_in,
                                                   std::string_view value_in) {
  absl::string_view name(name_in.data(), name_in.size());
  absl::string_view value(value_in.data(), value_in.size());
  if (!error_.ok()) return error_;
  if (value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("{{ ", name, " }}: a value with a NUL byte cannot be passed to a shell"));
  }
  fresh_subst_ = false;
  if (in_body_) {
    if (body_subst_ > 0) return Unsafe(name_in, "inside $( ) or `...` in a here-document");
    std::string out = body_.quoted ? std::string(value)
                                   : absl::StrReplaceAll(value, {{"\\", "\\\\"},
                                                                 {"$", "\\$"},
                                                                 {"`", "\\`"}});
    // Each line the value completes must not end the here-document.
    line_has_value_ = true;
    for (char c : out) {
      if (c == '\n') {
        if (absl::Status s = EndBodyLine(); !s.ok()) return s;
        line_has_value_ = true;
      } else {
        line_ += c;
      }
    }
    body_dollar_ = false;
    return out;
  }
  if (reading_delim_) return Unsafe(name_in, "in a here-document's delimiter word");
  if (escape_) return Unsafe(name_in, "right after a backslash");
  if (dollar_) return Unsafe(name_in, "right after '$'");
  const Frame kind = frames_.back().kind;
  lt_ = false;
  switch (kind) {
    case Frame::kSingle:
      return absl::StrReplaceAll(value, {{"'", "'\\''"}});
    case Frame::kDouble:
      return absl::StrReplaceAll(value,
                                 {{"\\", "\\\\"}, {"\"", "\\\""}, {"$", "\\$"}, {"`", "\\`"}});
    case Frame::kBacktick:
      return Unsafe(name_in, "inside backticks `...`");
    case Frame::kArith:
      if (!IsInteger(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("{{ ", name, " }} inside $(( )) must be an integer, got '",
                         std::string(value), "'"));
      }
      return std::string(value);
    case Frame::kTop:
    case Frame::kSubst:
      break;
  }
  if (in_comment_) {
    return absl::StrReplaceAll(value, {{"\n", " "}, {"\r", " "}});
  }
  word_start_ = false;
  word_ += "\x01";  // a value is never the keyword `case` / `esac`
  return absl::StrCat("'", absl::StrReplaceAll(value, {{"'", "'\\''"}}), "'");
}

}  // namespace de::dag
