// Internal to engine/csv: CsvChunkParser::ConvertTyped and ConvertValue, the typed conversion of
// one field, defined here so that both the row parser (csv_chunk_parser.cc) and the block parser
// (csv_block_parser.cc) inline them into their loops.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/base/attributes.h"
#include "engine/csv/csv_column_sink.h"
#include "engine/csv/csv_reader.h"
#include "engine/csv/csv_tokenize.h"
#include "engine/csv/csv_values.h"

namespace de::engine {

using csv_internal::ColumnSink;
using csv_internal::TrimSpaces;

// The typed conversion of one value of a column of type kType; false (nothing appended) when
// `v` is not a value of the type. Inlined into the row parser's AppendRow (through
// ConvertValue) and into the block parser's column loops (one per type).
template <Type kType>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool CsvChunkParser::ConvertTyped(size_t col,
                                                                      std::string_view v,
                                                                      bool in_chunk,
                                                                      bool check_utf8,
                                                                      ColumnSink* sink) {
  if constexpr (kType == Type::kInt64) {
    int64_t x;
    const bool back8 = in_chunk && v.data() + v.size() - chunk_begin_ >= 8;
    if (!(back8 && ParseShortInt64(v, &x)) && !ParseCsvInt64(v, &x) &&
        !ParseCsvInt64(TrimSpaces(v), &x)) {
      return false;
    }
    sink->PushI64(x);
  } else if constexpr (kType == Type::kString) {
    if (check_utf8 && !IsValidUtf8(v)) return false;
    sink->PushString(v.data(), v.size(), in_chunk ? chunk_end_ : v.data() + v.size());
  } else if constexpr (kType == Type::kInt32) {
    int64_t x;
    if (!ParseCsvInt64(v, &x) && !ParseCsvInt64(TrimSpaces(v), &x)) return false;
    if (x < INT32_MIN || x > INT32_MAX) return false;
    sink->PushI32(static_cast<int32_t>(x));
  } else if constexpr (kType == Type::kDouble) {
    double x;
    if (!ParseCsvDouble(v, &x) && !ParseCsvDouble(TrimSpaces(v), &x)) return false;
    sink->PushF64(x);
  } else if constexpr (kType == Type::kDate) {
    int32_t x;
    if (!ParseCsvDate(v, &x) && !ParseCsvDate(TrimSpaces(v), &x)) return false;
    sink->PushI32(x);
  } else if constexpr (kType == Type::kTimestamp) {
    int64_t x;
    if (!ParseTimestampCached(v, &x) && !ParseCsvTimestamp(TrimSpaces(v), &x)) return false;
    sink->PushI64(x);
  } else if constexpr (kType == Type::kBool) {
    uint8_t x;
    if (!ParseCsvBool(v, &x) && !ParseCsvBool(TrimSpaces(v), &x)) return false;
    sink->PushU8(x);
  } else {
    static_assert(kType == Type::kDecimal);
    int64_t x;
    const Field& f = format_.schema[col];
    if (!ParseDecimal(v, f.precision, f.scale, &x) &&
        !ParseDecimal(TrimSpaces(v), f.precision, f.scale, &x)) {
      return false;
    }
    sink->PushI64(x);
  }
  return true;
}

// Calls f(std::integral_constant<Type, T>{}) for T = `type`, returning what it returns: the one
// place a column's runtime type becomes a compile-time one. The two commonest types first: two
// compares cost less than the switch's jump table (the row parser does this per value).
template <typename F>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool VisitType(Type type, F&& f) {
  auto as = [&](auto k) { return f(k); };
  using T = Type;
  if (type == T::kInt64) return as(std::integral_constant<T, T::kInt64>{});
  if (type == T::kString) return as(std::integral_constant<T, T::kString>{});
  switch (type) {
    case T::kInt64:
    case T::kString: break;
    case T::kBool: return as(std::integral_constant<T, T::kBool>{});
    case T::kInt32: return as(std::integral_constant<T, T::kInt32>{});
    case T::kDouble: return as(std::integral_constant<T, T::kDouble>{});
    case T::kDate: return as(std::integral_constant<T, T::kDate>{});
    case T::kTimestamp: return as(std::integral_constant<T, T::kTimestamp>{});
    case T::kDecimal: return as(std::integral_constant<T, T::kDecimal>{});
  }
  return false;
}

// The row parser's conversion of one value: the column's type picked per value.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline CsvChunkParser::ValueResult CsvChunkParser::ConvertValue(
    size_t col, std::string_view v, bool in_chunk, bool check_utf8, ColumnSink* sink,
    std::string* reason) {
  const bool ok = VisitType(sink->type(), [&](auto type) {
    return ConvertTyped<decltype(type)::value>(col, v, in_chunk, check_utf8, sink);
  });
  if (ok) return ValueResult::kOk;
  *reason = BadValueReason(col, v);
  return ValueResult::kBad;
}

}  // namespace de::engine
