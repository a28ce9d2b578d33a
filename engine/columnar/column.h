// Columnar in-memory batches: what the CSV reader produces and the Parquet writer consumes.
// Plain values; not thread-safe (one owner at a time; move between threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace de::engine {

// Logical column types. Parquet mapping: kBool BOOLEAN; kInt32 INT32; kInt64 INT64;
// kDouble DOUBLE; kDate INT32 DATE (days since 1970-01-01); kTimestamp INT64
// TIMESTAMP(MICROS, UTC); kString BYTE_ARRAY STRING (UTF-8); kDecimal INT64 DECIMAL(precision,
// scale): exact, the unscaled value in an int64 (precision 1..18). Parquet decimals of precision
// above 18 do not fit an int64 and are read as kDouble (approximate; see parquet_reader.h).
enum class Type { kBool, kInt32, kInt64, kDouble, kDate, kTimestamp, kString, kDecimal };

// "bool" "int32" "int64" "double" "date" "timestamp" "string" "decimal"
const char* TypeName(Type t);
// Plain names only ("decimal" alone is not a type: see ParseDecimalTypeName).
bool ParseTypeName(std::string_view name, Type* out);
// "decimal(p,s)" / "numeric(p,s)" (spaces allowed, 1 <= p <= 18, 0 <= s <= p) -> precision, scale.
bool ParseDecimalTypeName(std::string_view name, int* precision, int* scale);
constexpr int kMaxDecimalPrecision = 18;

struct Field {
  std::string name;
  Type type = Type::kString;
  bool nullable = true;
  int precision = 0;  // kDecimal only: total digits (1..18)
  int scale = 0;      // kDecimal only: digits after the point; value = i64 / 10^scale
};

using Schema = std::vector<Field>;

// One column of a batch. Exactly one value vector is used, chosen by `type`:
//   kBool -> u8 (0/1); kInt32, kDate -> i32; kInt64, kTimestamp, kDecimal -> i64 (for kDecimal the
//   unscaled value; `scale` copies the Field's so a column formats alone); kDouble -> f64;
//   kString -> offsets (size()+1 entries) into `bytes`.
// `valid[i]` is 1 when row i has a value, 0 when it is null (the value slot holds a default).
//
// Dictionary form (kString only): when `dictionary` is set, row i's value is
// dictionary->str(codes[i]) (codes[i] is 0 for a null row; `valid` still says which rows are
// null) and offsets/bytes are unused. The Parquet reader produces it for dictionary-encoded chunks
// when asked (ParquetReadOptions::keep_dictionary), so filters and group-by keys work on codes;
// code that does not handle it calls MaterializeDictionary first. The dictionary is immutable and
// may be shared by several columns (and threads).
struct Column {
  Type type = Type::kString;
  int scale = 0;  // kDecimal only (see Field::scale)
  std::vector<uint8_t> valid;
  std::vector<uint8_t> u8;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint32_t> offsets{0};
  std::string bytes;
  std::shared_ptr<const Column> dictionary;  // plain kString values; set = dictionary form
  std::vector<uint32_t> codes;               // dictionary form: one code per row

  size_t size() const { return valid.size(); }
  bool is_dictionary() const { return dictionary != nullptr; }
  std::string_view str(size_t i) const {
    return std::string_view(bytes.data() + offsets[i], offsets[i + 1] - offsets[i]);
  }
  void Clear() {
    valid.clear(); u8.clear(); i32.clear(); i64.clear(); f64.clear();
    offsets.assign(1, 0); bytes.clear(); dictionary.reset(); codes.clear();
  }
};

// Turns a dictionary-form column into plain offsets/bytes (no-op for any other column). Fails
// (leaving `c` as it was) when the strings would exceed the 4 GiB a column can address.
absl::Status MaterializeDictionary(Column* c);
// The same into `out` (a separate column, whose buffers are reused); `in` must be in
// dictionary form.
absl::Status MaterializeDictionary(const Column& in, Column* out);

struct Batch {
  std::vector<Column> columns;   // one per schema field, same order
  size_t num_rows = 0;
};

}  // namespace de::engine
