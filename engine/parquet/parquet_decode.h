// Internal to engine/parquet: decoding Parquet pages into dense physical values and building
// typed Columns from them (the pieces of ParquetReader::ReadChunk). Stateless functions; safe to
// call from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/columnar/column.h"
#include "engine/parquet/parquet_format.h"
#include "engine/parquet/parquet_reader.h"

namespace de::engine::parquet_internal {

namespace pq = ::de::engine::parquet;
using Leaf = ParquetReader::Leaf;

inline absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("parquet: ", what));
}

// Where dense (non-null) physical values of a chunk are stored.
enum class Store { kU8, kI32, kI64, kF64, kStr };
Store StoreFor(pq::PhysicalType t);

// Dense physical values (no null slots).
struct Dense {
  std::vector<uint8_t> u8;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint32_t> offsets{0};
  std::string bytes;

  size_t size(Store s) const {
    switch (s) {
      case Store::kU8: return u8.size();
      case Store::kI32: return i32.size();
      case Store::kI64: return i64.size();
      case Store::kF64: return f64.size();
      case Store::kStr: return offsets.size() - 1;
    }
    return 0;
  }
  absl::Status AppendString(const char* p, size_t n) {
    if (bytes.size() + n > UINT32_MAX) return Corrupt("string data of a column chunk exceeds 4 GiB");
    bytes.append(p, n);
    offsets.push_back(static_cast<uint32_t>(bytes.size()));
    return absl::OkStatus();
  }
};

// Two's-complement wrapping arithmetic: out-of-range values from a damaged file must not be UB.
inline int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}
inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t FloorDiv1000(int64_t x) {
  int64_t q = x / 1000;
  return (x % 1000 < 0) ? q - 1 : q;
}

// Each appends `count` values decoded from [p, p+n) to `d` (bounds-checked).
// Takes over the buffers of `from` (a column already handed out) emptied, so that decoding the
// next one uses their memory again instead of fresh pages.
void ReuseBuffers(Column* from, std::vector<uint8_t>* valid, Dense* dense,
                  std::vector<uint32_t>* codes);

absl::Status DecodePlain(const Leaf& leaf, const uint8_t* p, size_t n, size_t count, Dense* d);
absl::Status DecodeDeltaBinaryPacked(const uint8_t* p, size_t n, size_t count,
                                     std::vector<int64_t>* out, size_t* consumed);
absl::Status DecodeDeltaLengthByteArray(const uint8_t* p, size_t n, size_t count, Dense* d);
absl::Status DecodeDeltaByteArray(const uint8_t* p, size_t n, size_t count, Dense* d);
absl::Status DecodeByteStreamSplit(const Leaf& leaf, const uint8_t* p, size_t n, size_t count,
                                   Dense* d);
// An error when an index is not below `dict_size` (a damaged file).
absl::Status CheckIndices(const uint32_t* idx, size_t count, size_t dict_size);
// Appends dict[idx[i]] for each index (an index out of range is an error).
absl::Status Gather(Store s, const Dense& dict, const uint32_t* idx, size_t count, Dense* d);

// Builds the output column from validity (one byte per row) and dense physical values.
absl::Status BuildOutput(const Leaf& leaf, std::vector<uint8_t>& valid, Dense& d, Column* out);

// pread() of exactly n bytes (EINTR-safe); errors name `path`.
absl::Status PRead(int fd, int64_t offset, size_t n, char* dst, const std::string& path);

}  // namespace de::engine::parquet_internal
