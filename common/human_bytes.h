// A byte count as people read it: 512 B, 1.5 KB, 12.3 MB, 2.05 GB (binary multiples).
#pragma once

#include <cstdint>
#include <string>

namespace de::common {

std::string HumanBytes(int64_t bytes);

}  // namespace de::common
