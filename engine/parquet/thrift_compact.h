// The Thrift compact protocol (doc/specs/thrift-compact-protocol.md), enough for Parquet metadata:
// a writer that appends to a std::string and a bounds-checked reader that never reads past its input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace de::engine::thrift {

// Compact protocol type ids (field headers; list elements use the same ids, bool = kBoolTrue/2).
enum CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
  kUuid = 13,
};

void AppendVarint(std::string* out, uint64_t v);

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Struct framing: BeginStruct() at the start of a (nested or top-level) struct, EndStruct() writes
  // the stop byte. Field ids within one struct must increase.
  void BeginStruct();
  void EndStruct();

  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldI8(int16_t id, int8_t v);
  void FieldBool(int16_t id, bool v);
  void FieldDouble(int16_t id, double v);
  void FieldBinary(int16_t id, std::string_view v);
  void FieldStruct(int16_t id);  // header, then BeginStruct(); close with EndStruct()
  void FieldList(int16_t id, CType elem, uint32_t size);  // header; then `size` elements

  // List elements.
  void ElemI32(int32_t v);
  void ElemI64(int64_t v);
  void ElemBinary(std::string_view v);
  void ElemBool(bool v);

  // Raw pieces (exposed for tests).
  void FieldHeader(int16_t id, CType type);
  void ListHeader(CType elem, uint32_t size);

 private:
  std::string* out_;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;
};

struct FieldHeader {
  CType type = kStop;
  int16_t id = 0;
  bool bool_value = false;  // for kBoolTrue/kBoolFalse fields
};

class CompactReader {
 public:
  CompactReader(const void* data, size_t size)
      : p_(static_cast<const uint8_t*>(data)), end_(p_ + size), begin_(p_) {}

  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  absl::Status BeginStruct();  // fails past a nesting limit
  void EndStruct();
  absl::Status ReadFieldHeader(FieldHeader* h);  // h->type == kStop at the end of the struct

  absl::Status ReadVarint(uint64_t* v);
  absl::Status ReadI32(int32_t* v);
  absl::Status ReadI64(int64_t* v);
  absl::Status ReadI8(int8_t* v);
  absl::Status ReadDouble(double* v);
  absl::Status ReadBinary(std::string* v);
  absl::Status ReadListHeader(CType* elem, uint32_t* size);
  absl::Status ReadBoolElem(bool* v);

  // Reads an integer field value of any integer type (i8/i16/i32/i64) into *v.
  absl::Status ReadInt(const FieldHeader& h, int64_t* v);
  // Skips one value of the given type (for unknown fields).
  absl::Status Skip(CType type);

 private:
  absl::Status SkipDepth(CType type, int depth);

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;
};

}  // namespace de::engine::thrift
