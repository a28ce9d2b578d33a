#include "engine/parquet/thrift_compact.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/parquet/bit_util.h"

namespace de::engine::thrift {
namespace {

constexpr int kMaxDepth = 64;

absl::Status Truncated() { return absl::DataLossError("thrift: truncated metadata"); }

}  // namespace

void AppendVarint(std::string* out, uint64_t v) {
  uint8_t buf[10];
  int n = PutVarint(buf, v);
  out->append(reinterpret_cast<const char*>(buf), n);
}

// ---- CompactWriter ----

void CompactWriter::BeginStruct() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::EndStruct() {
  out_->push_back(static_cast<char>(kStop));
  if (!stack_.empty()) {
    last_id_ = stack_.back();
    stack_.pop_back();
  }
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_->push_back(static_cast<char>(type));
    AppendVarint(out_, ZigZagEncode64(id));
  }
  last_id_ = id;
}

void CompactWriter::ListHeader(CType elem, uint32_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | elem));
  } else {
    out_->push_back(static_cast<char>(0xF0 | elem));
    AppendVarint(out_, size);
  }
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kI32);
  AppendVarint(out_, ZigZagEncode64(v));
}
void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kI64);
  AppendVarint(out_, ZigZagEncode64(v));
}
void CompactWriter::FieldI8(int16_t id, int8_t v) {
  FieldHeader(id, kI8);
  out_->push_back(static_cast<char>(v));
}
void CompactWriter::FieldBool(int16_t id, bool v) { FieldHeader(id, v ? kBoolTrue : kBoolFalse); }
void CompactWriter::FieldDouble(int16_t id, double v) {
  FieldHeader(id, kDouble);
  char buf[8];
  std::memcpy(buf, &v, 8);
  out_->append(buf, 8);
}
void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, kBinary);
  ElemBinary(v);
}
void CompactWriter::FieldStruct(int16_t id) {
  FieldHeader(id, kStruct);
  BeginStruct();
}
void CompactWriter::FieldList(int16_t id, CType elem, uint32_t size) {
  FieldHeader(id, kList);
  ListHeader(elem, size);
}
void CompactWriter::ElemI32(int32_t v) { AppendVarint(out_, ZigZagEncode64(v)); }
void CompactWriter::ElemI64(int64_t v) { AppendVarint(out_, ZigZagEncode64(v)); }
void CompactWriter::ElemBinary(std::string_view v) {
  AppendVarint(out_, v.size());
  out_->append(v.data(), v.size());
}
void CompactWriter::ElemBool(bool v) { out_->push_back(v ? 1 : 0); }

// ---- CompactReader ----

absl::Status CompactReader::BeginStruct() {
  if (stack_.size() >= kMaxDepth) return absl::DataLossError("thrift: metadata nested too deeply");
  stack_.push_back(last_id_);
  last_id_ = 0;
  return absl::OkStatus();
}

void CompactReader::EndStruct() {
  if (!stack_.empty()) {
    last_id_ = stack_.back();
    stack_.pop_back();
  }
}

absl::Status CompactReader::ReadVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ >= end_) return Truncated();
    uint8_t b = *p_++;
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return absl::OkStatus();
    }
  }
  return absl::DataLossError("thrift: varint too long");
}

absl::Status CompactReader::ReadFieldHeader(FieldHeader* h) {
  if (p_ >= end_) return Truncated();
  uint8_t b = *p_++;
  h->type = static_cast<CType>(b & 0x0F);
  if (h->type == kStop) {
    h->id = 0;
    return absl::OkStatus();
  }
  int delta = b >> 4;
  if (delta != 0) {
    h->id = static_cast<int16_t>(last_id_ + delta);
  } else {
    uint64_t z;
    if (auto s = ReadVarint(&z); !s.ok()) return s;
    h->id = static_cast<int16_t>(ZigZagDecode64(z));
  }
  last_id_ = h->id;
  if (h->type == kBoolTrue || h->type == kBoolFalse) h->bool_value = (h->type == kBoolTrue);
  if (h->type > kUuid) return absl::DataLossError(absl::StrCat("thrift: bad field type ", h->type));
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI32(int32_t* v) {
  uint64_t z;
  if (auto s = ReadVarint(&z); !s.ok()) return s;
  *v = static_cast<int32_t>(ZigZagDecode64(z));
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI64(int64_t* v) {
  uint64_t z;
  if (auto s = ReadVarint(&z); !s.ok()) return s;
  *v = ZigZagDecode64(z);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI8(int8_t* v) {
  if (p_ >= end_) return Truncated();
  *v = static_cast<int8_t>(*p_++);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadDouble(double* v) {
  if (remaining() < 8) return Truncated();
  std::memcpy(v, p_, 8);
  p_ += 8;
  return absl::OkStatus();
}

absl::Status CompactReader::ReadBinary(std::string* v) {
  uint64_t n;
  if (auto s = ReadVarint(&n); !s.ok()) return s;
  if (n > remaining()) return Truncated();
  v->assign(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return absl::OkStatus();
}

absl::Status CompactReader::ReadListHeader(CType* elem, uint32_t* size) {
  if (p_ >= end_) return Truncated();
  uint8_t b = *p_++;
  *elem = static_cast<CType>(b & 0x0F);
  uint64_t n = b >> 4;
  if (n == 15) {
    if (auto s = ReadVarint(&n); !s.ok()) return s;
  }
  // Every element takes at least one byte, except bools in some writers; be generous but bounded.
  if (n > remaining() + 15) return absl::DataLossError("thrift: list size exceeds the metadata");
  *size = static_cast<uint32_t>(n);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadBoolElem(bool* v) {
  if (p_ >= end_) return Truncated();
  *v = (*p_++ == 1);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadInt(const FieldHeader& h, int64_t* v) {
  switch (h.type) {
    case kI8: {
      int8_t x = 0;
      if (auto s = ReadI8(&x); !s.ok()) return s;
      *v = x;
      return absl::OkStatus();
    }
    case kI16:
    case kI32:
    case kI64:
      return ReadI64(v);
    default:
      return absl::DataLossError(
          absl::StrCat("thrift: field ", h.id, " has type ", h.type, ", expected an integer"));
  }
}

absl::Status CompactReader::Skip(CType type) { return SkipDepth(type, 0); }

absl::Status CompactReader::SkipDepth(CType type, int depth) {
  if (depth > kMaxDepth) return absl::DataLossError("thrift: metadata nested too deeply");
  uint64_t v;
  switch (type) {
    case kBoolTrue:
    case kBoolFalse:
      return absl::OkStatus();  // field bools carry no payload
    case kI8:
      if (p_ >= end_) return Truncated();
      ++p_;
      return absl::OkStatus();
    case kI16:
    case kI32:
    case kI64:
      return ReadVarint(&v);
    case kDouble:
      if (remaining() < 8) return Truncated();
      p_ += 8;
      return absl::OkStatus();
    case kUuid:
      if (remaining() < 16) return Truncated();
      p_ += 16;
      return absl::OkStatus();
    case kBinary:
      if (auto s = ReadVarint(&v); !s.ok()) return s;
      if (v > remaining()) return Truncated();
      p_ += v;
      return absl::OkStatus();
    case kList:
    case kSet: {
      CType elem;
      uint32_t n;
      if (auto s = ReadListHeader(&elem, &n); !s.ok()) return s;
      for (uint32_t i = 0; i < n; ++i) {
        if (elem == kBoolTrue || elem == kBoolFalse) {
          if (p_ >= end_) return Truncated();
          ++p_;
        } else if (auto s = SkipDepth(elem, depth + 1); !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    case kMap: {
      if (auto s = ReadVarint(&v); !s.ok()) return s;
      if (v == 0) return absl::OkStatus();
      if (v > remaining()) return Truncated();
      if (p_ >= end_) return Truncated();
      uint8_t kv = *p_++;
      CType kt = static_cast<CType>(kv >> 4), vt = static_cast<CType>(kv & 0x0F);
      for (uint64_t i = 0; i < v; ++i) {
        for (CType t : {kt, vt}) {
          if (t == kBoolTrue || t == kBoolFalse) {
            if (p_ >= end_) return Truncated();
            ++p_;
          } else if (auto s = SkipDepth(t, depth + 1); !s.ok()) {
            return s;
          }
        }
      }
      return absl::OkStatus();
    }
    case kStruct: {
      if (auto s = BeginStruct(); !s.ok()) return s;
      while (true) {
        FieldHeader h;
        if (auto s = ReadFieldHeader(&h); !s.ok()) return s;
        if (h.type == kStop) break;
        if (auto s = SkipDepth(h.type, depth + 1); !s.ok()) return s;
      }
      EndStruct();
      return absl::OkStatus();
    }
    default:
      return absl::DataLossError(absl::StrCat("thrift: cannot skip type ", type));
  }
}

}  // namespace de::engine::thrift
