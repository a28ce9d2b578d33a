// Small JSON writing helpers for manifests and task summaries (no parsing). Stateless.
#pragma once

#include <string>
#include <string_view>

#include "engine/columnar/column.h"

namespace de::engine {

// Appends `s` as a JSON string literal (quotes, escapes, \u00XX for control characters).
void AppendJsonString(std::string_view s, std::string* out);
std::string JsonString(std::string_view s);
// [{"name":"a","type":"int64"},...]
std::string SchemaJson(const Schema& schema);

}  // namespace de::engine
