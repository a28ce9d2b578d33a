#include "common/dag/yaml_indent.h"

#include <string>

namespace de::dag {
namespace {

// True when the line's content (after its indentation) ends with a block scalar indicator:
// `key: |`, `- >-`, `|2+` and the like, before an optional comment.
bool OpensBlockScalar(std::string_view rest) {
  if (size_t hash = rest.find(" #"); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r')) {
    rest.remove_suffix(1);
  }
  size_t start = rest.find_last_of(" \t");
  std::string_view token = rest.substr(start == std::string_view::npos ? 0 : start + 1);
  if (token.empty() || (token[0] != '|' && token[0] != '>')) return false;
  return token.find_first_not_of("0123456789+-", 1) == std::string_view::npos;
}

}  // namespace

std::optional<YamlLimitError> FindTabIndentation(std::string_view text) {
  int block_parent = -1;  // indentation of the line that opened a block scalar
  int line_no = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_no;
    const size_t spaces = line.find_first_not_of(' ');
    if (spaces == std::string_view::npos) continue;
    std::string_view rest = line.substr(spaces);
    const size_t text_at = rest.find_first_not_of(" \t\r");
    if (text_at == std::string_view::npos || rest[text_at] == '#') continue;  // blank, comment
    const int indent = static_cast<int>(spaces);
    if (block_parent >= 0) {
      if (indent > block_parent) continue;  // the block's text
      block_parent = -1;
    }
    if (rest[0] == '\t') {
      return YamlLimitError{line_no, indent + 1,
                            "tabs are not allowed in YAML indentation (indent with spaces)"};
    }
    if (OpensBlockScalar(rest)) block_parent = indent;
  }
  return std::nullopt;
}

}  // namespace de::dag
