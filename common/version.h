// The product version, shared by all three programs.
#pragma once
namespace de::common {
const char* Version();
}  // namespace de::common
