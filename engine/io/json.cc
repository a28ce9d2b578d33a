#include "engine/io/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace de::engine {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append(absl::StrFormat("\\u%04x", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string SchemaJson(const Schema& schema) {
  std::string out = "[";
  for (size_t i = 0; i < schema.size(); ++i) {
    if (i) out += ",";
    absl::StrAppend(&out, "{\"name\":", JsonString(schema[i].name), ",\"type\":\"",
                    TypeName(schema[i].type), "\"}");
  }
  return out + "]";
}

}  // namespace de::engine
