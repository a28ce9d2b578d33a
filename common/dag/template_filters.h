// The filters of a template reference, `{{ name | filter }}` (several chain left to right:
// `{{ item | basename | raw }}`): `raw` (the value goes into a shell command unquoted) and the
// path filters for `for_each: {glob: ...}` items, `basename`, `dirname` and `stem`.
// Pure functions over constants; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::dag {

enum class TemplateFilter { kRaw, kBasename, kDirname, kStem };

// "raw", "basename", "dirname", "stem": the names users write, in the order messages list them.
const std::vector<std::string>& TemplateFilterNames();
std::optional<TemplateFilter> ParseTemplateFilter(std::string_view name);

// The value after the filter. `raw` leaves it as it is (it only changes how a shell command
// quotes it). On a path (slashes as separators, as the items of a glob are):
//   basename  the last part: "raw/2024/a.csv.gz" -> "a.csv.gz" (trailing slashes ignored)
//   dirname   all but the last part: "raw/2024/a.csv.gz" -> "raw/2024"; "a.csv" -> "."
//   stem      the basename without its extension, and without a compression extension
//             (.gz .zst .bz2 .xz) with the one before it: "a.csv.gz" -> "a", "r.2024.csv" ->
//             "r.2024", ".env" -> ".env"
std::string ApplyTemplateFilter(TemplateFilter filter, std::string_view value);

}  // namespace de::dag
