#include "engine/columnar/column.h"

namespace de::engine {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kBool: return "bool";
    case Type::kInt32: return "int32";
    case Type::kInt64: return "int64";
    case Type::kDouble: return "double";
    case Type::kDate: return "date";
    case Type::kTimestamp: return "timestamp";
    case Type::kString: return "string";
  }
  return "?";
}

bool ParseTypeName(std::string_view name, Type* out) {
  struct Entry { std::string_view name; Type type; };
  static constexpr Entry kNames[] = {
      {"bool", Type::kBool},         {"boolean", Type::kBool},      {"int32", Type::kInt32},
      {"int", Type::kInt64},         {"int64", Type::kInt64},       {"bigint", Type::kInt64},
      {"double", Type::kDouble},     {"float64", Type::kDouble},    {"float", Type::kDouble},
      {"date", Type::kDate},         {"timestamp", Type::kTimestamp}, {"string", Type::kString},
      {"varchar", Type::kString},    {"text", Type::kString}};
  for (const auto& e : kNames) {
    if (e.name == name) {
      *out = e.type;
      return true;
    }
  }
  return false;
}

}  // namespace de::engine
