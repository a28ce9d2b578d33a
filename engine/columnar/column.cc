#include "engine/columnar/column.h"

#include "common/status.h"

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
    case Type::kDecimal: return "decimal";
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

bool ParseDecimalTypeName(std::string_view name, int* precision, int* scale) {
  auto skip = [&](size_t i) {
    while (i < name.size() && name[i] == ' ') ++i;
    return i;
  };
  auto number = [&](size_t* i, int* out) {
    size_t j = skip(*i);
    int v = 0;
    size_t start = j;
    while (j < name.size() && name[j] >= '0' && name[j] <= '9' && j - start < 3) v = v * 10 + (name[j++] - '0');
    if (j == start) return false;
    *out = v;
    *i = skip(j);
    return true;
  };
  size_t i;
  if (name.substr(0, 8) == "decimal(") {
    i = 8;
  } else if (name.substr(0, 8) == "numeric(") {
    i = 8;
  } else {
    return false;
  }
  int p = 0, s = 0;
  if (!number(&i, &p) || i >= name.size() || name[i] != ',') return false;
  ++i;
  if (!number(&i, &s) || i + 1 != name.size() || name[i] != ')') return false;
  if (p < 1 || p > kMaxDecimalPrecision || s > p) return false;
  *precision = p;
  *scale = s;
  return true;
}

absl::Status MaterializeDictionary(const Column& in, Column* out) {
  const Column& d = *in.dictionary;
  const size_t n = in.codes.size();
  const uint8_t* v = in.valid.data();
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = in.codes[i];
    if (v[i]) total += d.offsets[k + 1] - d.offsets[k];
  }
  if (total > UINT32_MAX) {
    return absl::ResourceExhaustedError("a string column of a batch exceeds 4 GiB");
  }
  out->Clear();
  out->type = Type::kString;
  out->valid = in.valid;
  out->bytes.reserve(total);
  out->offsets.resize(n + 1);
  for (size_t i = 0; i < n; ++i) {
    if (v[i]) {
      const uint32_t k = in.codes[i];
      out->bytes.append(d.bytes.data() + d.offsets[k], d.offsets[k + 1] - d.offsets[k]);
    }
    out->offsets[i + 1] = static_cast<uint32_t>(out->bytes.size());
  }
  return absl::OkStatus();
}

absl::Status MaterializeDictionary(Column* c) {
  if (!c->is_dictionary()) return absl::OkStatus();
  Column plain;
  DE_RETURN_IF_ERROR(MaterializeDictionary(*c, &plain));
  *c = std::move(plain);
  return absl::OkStatus();
}

}  // namespace de::engine
