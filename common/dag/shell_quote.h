// Quoting template values into a POSIX shell command line so that each value stays one literal
// string and never becomes shell syntax. A small lexer follows the command's own quoting (single
// and double quotes, backslash escapes, comments, $( ), $(( )), backticks, here-documents) as the
// literal text of the command is fed to it; at each template position it says which context the
// value lands in and quotes it for that context:
//   outside quotes        -> one single-quoted word: it's -> 'it'\''s'
//   inside "..."          -> \ " $ ` escaped with a backslash
//   inside '...'          -> ' becomes '\'' (close, escaped quote, reopen)
//   in a comment          -> newlines become spaces (a newline would end the comment)
//   in a here-document    -> \ $ ` escaped (none for a quoted delimiter); a line of the body that
//                            holds a value may not equal the delimiter
//   inside $(( ))         -> only an integer is accepted
// Contexts where no quoting is safe are errors: inside backticks, right after a backslash or a
// `$`, inside a here-document's delimiter word or inside $( ) within a here-document body.
// Not thread-safe (one lexer per command); no allocation beyond the strings it returns.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace de::dag {

class ShellLexer {
 public:
  ShellLexer();

  // Advances over text the DAG author wrote (also a `| raw` value, which is shell syntax by
  // choice). Errors: a here-document line that a value made equal to its delimiter.
  absl::Status FeedLiteral(std::string_view text);

  // Returns `value` quoted for the current position and advances over it. `name` is used in
  // errors ("{{ params.x }} inside backticks ..."). An error when the position cannot hold a value.
  absl::StatusOr<std::string> QuoteValue(std::string_view name, std::string_view value);

 private:
  enum class Frame { kTop, kSubst, kDouble, kSingle, kBacktick, kArith };
  struct FrameState {
    Frame kind;
    int depth = 0;        // kSubst / kArith: open parentheses inside
    int case_depth = 0;   // kSubst: open `case ... esac` (their `)` do not close the $( )
    bool closing = false; // kArith: saw the first ')' of '))'
  };
  struct Heredoc {
    std::string delimiter;
    bool strip_tabs = false;  // <<-
    bool quoted = false;      // <<'EOF' / <<"EOF" / <<\EOF: no expansion in the body
  };

  void Char(char c);
  void UnquotedChar(char c);
  void DelimiterChar(char c);
  void BodyChar(char c);
  void EndWord();
  void OpenSubst();         // after "$(": a command substitution
  void EndLine();           // an unquoted newline: here-documents waiting for it begin
  void StartPendingBody();  // the first waiting here-document's body begins, if any
  bool InUnquotedFrame() const {
    return frames_.back().kind == Frame::kTop || frames_.back().kind == Frame::kSubst;
  }
  absl::Status EndBodyLine();
  absl::Status Unsafe(std::string_view name, std::string_view where) const;

  std::vector<FrameState> frames_;
  bool fresh_subst_ = false;  // right after "$("
  bool escape_ = false;       // the previous char was an escaping backslash
  bool dollar_ = false;       // the previous char was an unquoted/double-quoted '$'
  bool lt_ = false;           // the previous char was '<' (unquoted)
  bool in_comment_ = false;
  bool word_start_ = true;    // at the start of a word (a '#' starts a comment)
  std::string word_;          // the current unquoted word (to see `case` / `esac`)

  // Here-documents: the delimiter being read after `<<`, those waiting for the next newline,
  // and the body being read.
  bool reading_delim_ = false;
  bool delim_started_ = false;
  char delim_quote_ = 0;
  Heredoc delim_;
  std::vector<Heredoc> pending_;
  bool in_body_ = false;
  Heredoc body_;
  std::string line_;          // the body line so far (rendered)
  bool line_has_value_ = false;
  int body_subst_ = 0;        // $( / ` depth inside an expanding body
  bool body_dollar_ = false;
  absl::Status error_;
};

}  // namespace de::dag
