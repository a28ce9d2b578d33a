// Internal to engine/csv: how the chunk parser appends values to a Column. The column's buffers
// are grown ahead in blocks and written through raw pointers, so that a value costs a store and
// not a std::vector::push_back or std::string::append call (tens of millions per file). Nulls are
// noted as they come and the validity is written once, by Finish. Between Begin and Finish the
// column's vectors are longer than its values; nothing else may look at it. Not thread-safe.
//
// Room: every push needs room for one value (HasRoom/Grow, checked once per row by the parser,
// as a row appends at most one value per column); PushString also checks its bytes itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/columnar/column.h"

namespace de::engine::csv_internal {

class ColumnSink {
 public:
  static constexpr size_t kBlockValues = 4096;
  static constexpr size_t kBlockBytes = 32 << 10;

  // Starts appending after the column's current values (their validity must be complete).
  void Begin(Column* c) {
    col_ = c;
    type_ = c->type;
    n_ = c->valid.size();
    cap_ = n_;
    nulls_.clear();
    if (type_ == Type::kString) {
      nbytes_ = c->bytes.size();
      bytes_cap_ = nbytes_;
    }
    Grow();
  }

  // Trims the column's buffers to the values appended and writes their validity.
  void Finish() {
    switch (type_) {
      case Type::kBool: col_->u8.resize(n_); break;
      case Type::kInt32:
      case Type::kDate: col_->i32.resize(n_); break;
      case Type::kInt64:
      case Type::kDecimal:
      case Type::kTimestamp: col_->i64.resize(n_); break;
      case Type::kDouble: col_->f64.resize(n_); break;
      case Type::kString:
        col_->offsets.resize(n_ + 1);
        col_->bytes.resize(nbytes_);
        break;
    }
    col_->valid.resize(n_, 1);
    for (uint32_t i : nulls_) col_->valid[i] = 0;
    nulls_.clear();
  }

  Type type() const { return type_; }
  size_t size() const { return n_; }
  size_t room() const { return cap_ - n_; }

  // Grows the value buffers by a block. Growing by a small block (std::vector still reallocates
  // geometrically) keeps the zero-filling of resize() to memory about to be written anyway.
  void Grow() {
    cap_ += kBlockValues;
    switch (type_) {
      case Type::kBool: col_->u8.resize(cap_); u8_ = col_->u8.data(); break;
      case Type::kInt32:
      case Type::kDate: col_->i32.resize(cap_); i32_ = col_->i32.data(); break;
      case Type::kInt64:
      case Type::kDecimal:
      case Type::kTimestamp: col_->i64.resize(cap_); i64_ = col_->i64.data(); break;
      case Type::kDouble: col_->f64.resize(cap_); f64_ = col_->f64.data(); break;
      case Type::kString:
        col_->offsets.resize(cap_ + 1);
        offsets_ = col_->offsets.data();
        offsets_[n_] = static_cast<uint32_t>(nbytes_);
        if (bytes_cap_ < nbytes_ + kBlockBytes) GrowBytes(kBlockBytes);
        break;
    }
  }

  // Room for `rows` more values.
  void Reserve(size_t rows) {
    while (room() < rows) Grow();
  }
  // Takes back every value after the first `n` (a rejected row's, a block the row parser
  // must redo).
  void Truncate(size_t n) {
    n_ = n;
    if (type_ == Type::kString) nbytes_ = offsets_[n_];
    while (!nulls_.empty() && nulls_.back() >= n_) nulls_.pop_back();
  }

  void PushU8(uint8_t x) { u8_[n_++] = x; }
  void PushI32(int32_t x) { i32_[n_++] = x; }
  void PushI64(int64_t x) { i64_[n_++] = x; }
  void PushF64(double x) { f64_[n_++] = x; }
  // Appends the string p[0, len). `limit`: p may be read up to there (a short string is then
  // copied as 16 bytes, which compiles to two moves rather than a memcpy call).
  void PushString(const char* p, size_t len, const char* limit) {
    if (nbytes_ + std::max<size_t>(len, 16) > bytes_cap_) GrowBytes(len + 16);
    char* dst = bytes_ + nbytes_;
    if (len <= 16 && limit - p >= 16) {
      std::memcpy(dst, p, 16);
    } else {
      std::memcpy(dst, p, len);
    }
    nbytes_ += len;
    offsets_[++n_] = static_cast<uint32_t>(nbytes_);
  }
  void PushNull() {
    nulls_.push_back(static_cast<uint32_t>(n_));
    switch (type_) {
      case Type::kBool: u8_[n_] = 0; break;
      case Type::kInt32:
      case Type::kDate: i32_[n_] = 0; break;
      case Type::kInt64:
      case Type::kDecimal:
      case Type::kTimestamp: i64_[n_] = 0; break;
      case Type::kDouble: f64_[n_] = 0; break;
      case Type::kString: offsets_[n_ + 1] = static_cast<uint32_t>(nbytes_); break;
    }
    ++n_;
  }
 private:
  void GrowBytes(size_t at_least) {
    bytes_cap_ += std::max(at_least, kBlockBytes);
    col_->bytes.resize(bytes_cap_);
    bytes_ = col_->bytes.data();
  }

  Column* col_ = nullptr;
  Type type_ = Type::kString;
  size_t n_ = 0;    // values, the column's own included
  size_t cap_ = 0;  // values the buffers hold
  uint8_t* u8_ = nullptr;
  int32_t* i32_ = nullptr;
  int64_t* i64_ = nullptr;
  double* f64_ = nullptr;
  uint32_t* offsets_ = nullptr;  // kString: n_ + 1 entries used
  char* bytes_ = nullptr;
  size_t nbytes_ = 0, bytes_cap_ = 0;
  std::vector<uint32_t> nulls_;  // rows (as value indices) appended as null
};

}  // namespace de::engine::csv_internal
