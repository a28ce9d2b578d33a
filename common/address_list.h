// A list of scheduler addresses as --server / --scheduler / DE_SERVER take it: HOST:PORT, or
// several separated by commas (schedulers sharing one PostgreSQL, one leading at a time).
#pragma once

#include <string>
#include <vector>

namespace de::common {

// "a:1, b:2" -> {"a:1", "b:2"}; never empty (a list of nothing is kept as given).
std::vector<std::string> SplitAddressList(const std::string& list);

}  // namespace de::common
