#include "common/version.h"
namespace de::common {
const char* Version() { return "0.1.0"; }
}  // namespace de::common
