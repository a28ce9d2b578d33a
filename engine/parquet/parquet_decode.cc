// Page value decoding: PLAIN, DELTA_*, BYTE_STREAM_SPLIT, and dictionary gathers.
#include <algorithm>
#include <cstring>

#include "common/status.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/parquet_decode.h"

namespace de::engine::parquet_internal {

Store StoreFor(pq::PhysicalType t) {
  switch (t) {
    case pq::PhysicalType::kBoolean: return Store::kU8;
    case pq::PhysicalType::kInt32: return Store::kI32;
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kInt96: return Store::kI64;
    case pq::PhysicalType::kFloat:
    case pq::PhysicalType::kDouble: return Store::kF64;
    default: return Store::kStr;
  }
}

namespace {
int64_t Int96ToMicros(const uint8_t* p) {
  int64_t nanos = static_cast<int64_t>(LoadLE64(p));
  int32_t julian = static_cast<int32_t>(LoadLE32(p + 8));
  return WrapAdd(WrapMul(static_cast<int64_t>(julian) - 2440588, 86400000000ll), FloorDiv1000(nanos));
}

}  // namespace

absl::Status DecodePlain(const Leaf& leaf, const uint8_t* p, size_t n, size_t count, Dense* d) {
  auto need = [&](size_t bytes) -> absl::Status {
    return bytes <= n ? absl::OkStatus() : Corrupt("PLAIN values run past the end of the page");
  };
  switch (leaf.physical) {
    case pq::PhysicalType::kBoolean: {
      DE_RETURN_IF_ERROR(need((count + 7) / 8));
      for (size_t i = 0; i < count; ++i) d->u8.push_back((p[i >> 3] >> (i & 7)) & 1);
      return absl::OkStatus();
    }
    case pq::PhysicalType::kInt32: {
      DE_RETURN_IF_ERROR(need(count * 4));
      size_t old = d->i32.size();
      d->i32.resize(old + count);
      if (count) std::memcpy(d->i32.data() + old, p, count * 4);
      return absl::OkStatus();
    }
    case pq::PhysicalType::kInt64: {
      DE_RETURN_IF_ERROR(need(count * 8));
      size_t old = d->i64.size();
      d->i64.resize(old + count);
      if (count) std::memcpy(d->i64.data() + old, p, count * 8);
      return absl::OkStatus();
    }
    case pq::PhysicalType::kInt96: {
      DE_RETURN_IF_ERROR(need(count * 12));
      for (size_t i = 0; i < count; ++i) d->i64.push_back(Int96ToMicros(p + 12 * i));
      return absl::OkStatus();
    }
    case pq::PhysicalType::kFloat: {
      DE_RETURN_IF_ERROR(need(count * 4));
      for (size_t i = 0; i < count; ++i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        d->f64.push_back(f);
      }
      return absl::OkStatus();
    }
    case pq::PhysicalType::kDouble: {
      DE_RETURN_IF_ERROR(need(count * 8));
      size_t old = d->f64.size();
      d->f64.resize(old + count);
      if (count) std::memcpy(d->f64.data() + old, p, count * 8);
      return absl::OkStatus();
    }
    case pq::PhysicalType::kByteArray: {
      size_t pos = 0;
      for (size_t i = 0; i < count; ++i) {
        if (n - pos < 4) return Corrupt("PLAIN byte array runs past the end of the page");
        uint32_t len = LoadLE32(p + pos);
        pos += 4;
        if (len > n - pos) return Corrupt("PLAIN byte array runs past the end of the page");
        DE_RETURN_IF_ERROR(d->AppendString(reinterpret_cast<const char*>(p + pos), len));
        pos += len;
      }
      return absl::OkStatus();
    }
    case pq::PhysicalType::kFixedLenByteArray: {
      size_t w = static_cast<size_t>(leaf.type_length);
      DE_RETURN_IF_ERROR(need(count * w));
      for (size_t i = 0; i < count; ++i) {
        DE_RETURN_IF_ERROR(d->AppendString(reinterpret_cast<const char*>(p + i * w), w));
      }
      return absl::OkStatus();
    }
  }
  return Corrupt("unknown physical type");
}

// ---- DELTA_BINARY_PACKED and friends (written by DuckDB/Arrow with data page v2) ----

namespace {

class ByteCursor {
 public:
  ByteCursor(const uint8_t* p, size_t n) : p_(p), end_(p + n), begin_(p) {}
  absl::Status Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return Corrupt("DELTA header runs past the end of the page");
      uint8_t b = *p_++;
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return absl::OkStatus();
      }
    }
    return Corrupt("bad varint in DELTA data");
  }
  const uint8_t* p() const { return p_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  void Skip(size_t n) { p_ += n; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
};

uint64_t Unpack64(const uint8_t* in, size_t in_bytes, uint64_t k, int w) {
  if (w == 0) return 0;
  uint64_t bit = k * static_cast<uint64_t>(w);
  size_t byte = bit >> 3;
  int shift = bit & 7;
  uint8_t buf[16] = {0};
  if (byte < in_bytes) std::memcpy(buf, in + byte, std::min<size_t>(16, in_bytes - byte));
  uint64_t lo = LoadLE64(buf);
  uint64_t hi = LoadLE64(buf + 8);
  uint64_t v = shift ? (lo >> shift) | (hi << (64 - shift)) : lo;
  return w == 64 ? v : (v & ((1ull << w) - 1));
}

}  // namespace

// Decodes `count` DELTA_BINARY_PACKED values into `out`; *consumed = bytes used.
absl::Status DecodeDeltaBinaryPacked(const uint8_t* p, size_t n, size_t count, std::vector<int64_t>* out,
                                     size_t* consumed) {
  ByteCursor c(p, n);
  uint64_t block_size = 0, miniblocks = 0, total = 0, zz_first = 0;
  DE_RETURN_IF_ERROR(c.Varint(&block_size));
  DE_RETURN_IF_ERROR(c.Varint(&miniblocks));
  DE_RETURN_IF_ERROR(c.Varint(&total));
  DE_RETURN_IF_ERROR(c.Varint(&zz_first));
  if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 32 != 0 || block_size > (1u << 20)) {
    return Corrupt("bad DELTA_BINARY_PACKED header");
  }
  if (total != count) return Corrupt("DELTA_BINARY_PACKED value count does not match the page");
  uint64_t per_mini = block_size / miniblocks;
  size_t start = out->size();
  out->reserve(start + count);
  uint64_t last = static_cast<uint64_t>(ZigZagDecode64(zz_first));
  if (count > 0) out->push_back(static_cast<int64_t>(last));
  uint8_t widths[1024];
  if (miniblocks > sizeof(widths)) return Corrupt("bad DELTA_BINARY_PACKED header");
  while (out->size() - start < count) {
    uint64_t zz_min = 0;
    DE_RETURN_IF_ERROR(c.Varint(&zz_min));
    uint64_t min_delta = static_cast<uint64_t>(ZigZagDecode64(zz_min));
    if (c.remaining() < miniblocks) return Corrupt("DELTA_BINARY_PACKED block runs past the end of the page");
    std::memcpy(widths, c.p(), miniblocks);
    c.Skip(miniblocks);
    for (uint64_t mb = 0; mb < miniblocks && out->size() - start < count; ++mb) {
      int w = widths[mb];
      if (w > 64) return Corrupt("bad DELTA_BINARY_PACKED bit width");
      size_t bytes = static_cast<size_t>(per_mini * w / 8);
      size_t avail = std::min(bytes, c.remaining());
      uint64_t left = count - (out->size() - start);
      uint64_t take = std::min(per_mini, left);
      if (avail * 8 < take * static_cast<uint64_t>(w)) return Corrupt("DELTA_BINARY_PACKED data runs past the end of the page");
      for (uint64_t k = 0; k < take; ++k) {
        last += min_delta + Unpack64(c.p(), avail, k, w);
        out->push_back(static_cast<int64_t>(last));
      }
      c.Skip(avail);
    }
  }
  *consumed = c.consumed();
  return absl::OkStatus();
}

absl::Status DecodeDeltaLengthByteArray(const uint8_t* p, size_t n, size_t count, Dense* d) {
  std::vector<int64_t> lens;
  size_t used;
  DE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(p, n, count, &lens, &used));
  size_t pos = used;
  for (int64_t len : lens) {
    if (len < 0 || static_cast<uint64_t>(len) > n - pos) return Corrupt("DELTA_LENGTH_BYTE_ARRAY data runs past the end of the page");
    DE_RETURN_IF_ERROR(d->AppendString(reinterpret_cast<const char*>(p + pos), static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
  }
  return absl::OkStatus();
}

absl::Status DecodeDeltaByteArray(const uint8_t* p, size_t n, size_t count, Dense* d) {
  std::vector<int64_t> prefix, suffix;
  size_t used1, used2;
  DE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(p, n, count, &prefix, &used1));
  DE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(p + used1, n - used1, count, &suffix, &used2));
  size_t pos = used1 + used2;
  std::string prev, cur;
  for (size_t i = 0; i < count; ++i) {
    if (prefix[i] < 0 || static_cast<uint64_t>(prefix[i]) > prev.size()) return Corrupt("bad DELTA_BYTE_ARRAY prefix");
    if (suffix[i] < 0 || static_cast<uint64_t>(suffix[i]) > n - pos) return Corrupt("DELTA_BYTE_ARRAY data runs past the end of the page");
    cur.assign(prev, 0, static_cast<size_t>(prefix[i]));
    cur.append(reinterpret_cast<const char*>(p + pos), static_cast<size_t>(suffix[i]));
    pos += static_cast<size_t>(suffix[i]);
    DE_RETURN_IF_ERROR(d->AppendString(cur.data(), cur.size()));
    std::swap(prev, cur);
  }
  return absl::OkStatus();
}

absl::Status DecodeByteStreamSplit(const Leaf& leaf, const uint8_t* p, size_t n, size_t count, Dense* d) {
  size_t w;
  switch (leaf.physical) {
    case pq::PhysicalType::kInt32:
    case pq::PhysicalType::kFloat: w = 4; break;
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble: w = 8; break;
    case pq::PhysicalType::kFixedLenByteArray: w = static_cast<size_t>(leaf.type_length); break;
    default: return Corrupt("BYTE_STREAM_SPLIT on an unsupported type");
  }
  if (count * w > n) return Corrupt("BYTE_STREAM_SPLIT data runs past the end of the page");
  std::string tmp(count * w, '\0');
  for (size_t i = 0; i < count; ++i) {
    for (size_t b = 0; b < w; ++b) tmp[i * w + b] = static_cast<char>(p[b * count + i]);
  }
  return DecodePlain(leaf, reinterpret_cast<const uint8_t*>(tmp.data()), tmp.size(), count, d);
}

absl::Status CheckIndices(const uint32_t* idx, size_t count, size_t dict_size) {
  if (dict_size > UINT32_MAX) return absl::OkStatus();  // every uint32 index is in range
  const uint32_t n = static_cast<uint32_t>(dict_size);
  // An OR of unsigned compares (vectorised without an early exit; cheaper than a running
  // unsigned max, which SSE2 lacks).
  uint32_t bad = 0;
  for (size_t i = 0; i < count; ++i) bad |= static_cast<uint32_t>(idx[i] >= n);
  if (bad != 0) return Corrupt("dictionary index out of range");
  return absl::OkStatus();
}

void ReuseBuffers(Column* from, std::vector<uint8_t>* valid, Dense* dense,
                  std::vector<uint32_t>* codes) {
  auto take = [](auto* dst, auto& src) {
    *dst = std::move(src);
    dst->clear();
  };
  take(valid, from->valid);
  take(&dense->u8, from->u8);
  take(&dense->i32, from->i32);
  take(&dense->i64, from->i64);
  take(&dense->f64, from->f64);
  take(&dense->offsets, from->offsets);
  dense->offsets.push_back(0);
  take(&dense->bytes, from->bytes);
  take(codes, from->codes);
}

absl::Status Gather(Store s, const Dense& dict, const uint32_t* idx, size_t count, Dense* d) {
  DE_RETURN_IF_ERROR(CheckIndices(idx, count, dict.size(s)));
  auto gather = [&](auto& dst, const auto& src) {
    size_t old = dst.size();
    dst.resize(old + count);
    auto* out = dst.data() + old;
    for (size_t i = 0; i < count; ++i) out[i] = src[idx[i]];
  };
  switch (s) {
    case Store::kU8: gather(d->u8, dict.u8); break;
    case Store::kI32: gather(d->i32, dict.i32); break;
    case Store::kI64: gather(d->i64, dict.i64); break;
    case Store::kF64: gather(d->f64, dict.f64); break;
    case Store::kStr: {
      uint64_t total = 0;
      for (size_t i = 0; i < count; ++i) total += dict.offsets[idx[i] + 1] - dict.offsets[idx[i]];
      if (d->bytes.size() + total > UINT32_MAX) return Corrupt("string data of a column chunk exceeds 4 GiB");
      size_t pos = d->bytes.size();
      d->bytes.resize(pos + total);
      size_t old = d->offsets.size();
      d->offsets.resize(old + count);
      char* out = d->bytes.data();
      const size_t out_size = d->bytes.size();
      const char* in = dict.bytes.data();
      const size_t in_size = dict.bytes.size();
      uint32_t* offs = d->offsets.data() + old;
      for (size_t i = 0; i < count; ++i) {
        uint32_t a = dict.offsets[idx[i]], len = dict.offsets[idx[i] + 1] - a;
        if (len <= 16 && pos + 16 <= out_size && a + 16 <= in_size) {
          // Short strings (codes, names): two fixed 8-byte moves instead of a memcpy call; the
          // bytes past `len` are overwritten by the next value (or are the buffer's slack).
          std::memcpy(out + pos, in + a, 8);
          std::memcpy(out + pos + 8, in + a + 8, 8);
        } else if (len > 0) {
          std::memcpy(out + pos, in + a, len);
        }
        pos += len;
        offs[i] = static_cast<uint32_t>(pos);
      }
      break;
    }
  }
  return absl::OkStatus();
}


}  // namespace de::engine::parquet_internal
