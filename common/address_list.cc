#include "common/address_list.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace de::common {

std::vector<std::string> SplitAddressList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(a));
  }
  if (out.empty()) out.push_back(list);
  return out;
}

}  // namespace de::common
