// Helpers for the clean kernel tests: small columns and batches built from literals.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/columnar/column.h"

namespace de::engine::testing {

// A string column; nullopt is null.
inline Column Strings(const std::vector<std::optional<std::string>>& v) {
  Column c;
  c.type = Type::kString;
  for (const auto& s : v) {
    c.valid.push_back(s.has_value());
    if (s) c.bytes += *s;
    c.offsets.push_back(static_cast<uint32_t>(c.bytes.size()));
  }
  return c;
}

inline Column Int64s(const std::vector<std::optional<int64_t>>& v, Type t = Type::kInt64) {
  Column c;
  c.type = t;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    if (t == Type::kInt32 || t == Type::kDate) c.i32.push_back(static_cast<int32_t>(x.value_or(0)));
    else c.i64.push_back(x.value_or(0));
  }
  return c;
}

inline Column Doubles(const std::vector<std::optional<double>>& v) {
  Column c;
  c.type = Type::kDouble;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    c.f64.push_back(x.value_or(0));
  }
  return c;
}

// The values of a string column (nulls as "<null>").
inline std::vector<std::string> Values(const Column& c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size(); ++i) {
    out.push_back(c.valid[i] ? std::string(c.str(i)) : "<null>");
  }
  return out;
}

}  // namespace de::engine::testing
