#include "common/human_bytes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace de::common {

std::string HumanBytes(int64_t b) {
  if (b >= (int64_t{1} << 30)) return absl::StrFormat("%.2f GB", b / 1073741824.0);
  if (b >= (int64_t{1} << 20)) return absl::StrFormat("%.1f MB", b / 1048576.0);
  if (b >= (int64_t{1} << 10)) return absl::StrFormat("%.1f KB", b / 1024.0);
  return absl::StrCat(b, " B");
}

}  // namespace de::common
