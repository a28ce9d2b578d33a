// Test helpers for the expression tests: small typed columns with nulls, and a batch builder.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/columnar/column.h"
#include "engine/ops/expr_ast.h"

namespace de::engine::testing_util {

template <typename T>
using Opt = std::vector<std::optional<T>>;

inline Column IntColumn(const Opt<int64_t>& v, Type type = Type::kInt64) {
  Column c;
  c.type = type;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    if (type == Type::kInt32 || type == Type::kDate) {
      c.i32.push_back(static_cast<int32_t>(x.value_or(0)));
    } else if (type == Type::kBool) {
      c.u8.push_back(static_cast<uint8_t>(x.value_or(0)));
    } else {
      c.i64.push_back(x.value_or(0));
    }
  }
  return c;
}

inline Column DoubleColumn(const Opt<double>& v) {
  Column c;
  c.type = Type::kDouble;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    c.f64.push_back(x.value_or(0));
  }
  return c;
}

inline Column StringColumn(const Opt<std::string>& v) {
  Column c;
  c.type = Type::kString;
  for (const auto& x : v) {
    c.valid.push_back(x.has_value());
    if (x) c.bytes += *x;
    c.offsets.push_back(static_cast<uint32_t>(c.bytes.size()));
  }
  return c;
}

inline Column DateColumn(const Opt<std::string>& v) {
  Opt<int64_t> days;
  for (const auto& x : v) {
    int64_t d = 0;
    if (x) ParseExprDate(*x, &d);
    days.push_back(x ? std::optional<int64_t>(d) : std::nullopt);
  }
  return IntColumn(days, Type::kDate);
}

inline Column TimestampColumn(const Opt<std::string>& v) {
  Opt<int64_t> us;
  for (const auto& x : v) {
    int64_t t = 0;
    if (x) ParseExprTimestamp(*x, &t);
    us.push_back(x ? std::optional<int64_t>(t) : std::nullopt);
  }
  return IntColumn(us, Type::kTimestamp);
}

inline Batch MakeBatch(std::vector<Column> cols) {
  Batch b;
  b.num_rows = cols.empty() ? 0 : cols[0].size();
  b.columns = std::move(cols);
  return b;
}

}  // namespace de::engine::testing_util
