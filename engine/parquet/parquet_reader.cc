#include "engine/parquet/parquet_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/parquet/bit_util.h"
#include "engine/io/codec.h"
#include "engine/parquet/encoding.h"

namespace de::engine {

namespace pq = ::de::engine::parquet;
using Leaf = ParquetReader::Leaf;

namespace {

absl::Status Corrupt(absl::string_view what) { return absl::DataLossError(absl::StrCat("parquet: ", what)); }

// Where dense (non-null) physical values of a chunk are stored.
enum class Store { kU8, kI32, kI64, kF64, kStr };

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

int64_t Int96ToMicros(const uint8_t* p) {
  int64_t nanos = static_cast<int64_t>(LoadLE64(p));
  int32_t julian = static_cast<int32_t>(LoadLE32(p + 8));
  return WrapAdd(WrapMul(static_cast<int64_t>(julian) - 2440588, 86400000000ll), FloorDiv1000(nanos));
}

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

// Appends dict[indices[i]] for each index.
absl::Status Gather(Store s, const Dense& dict, const uint32_t* idx, size_t count, Dense* d) {
  size_t dn = dict.size(s);
  for (size_t i = 0; i < count; ++i) {
    if (idx[i] >= dn) return Corrupt("dictionary index out of range");
  }
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
      uint32_t* offs = d->offsets.data() + old;
      for (size_t i = 0; i < count; ++i) {
        uint32_t a = dict.offsets[idx[i]], len = dict.offsets[idx[i] + 1] - a;
        std::memcpy(out + pos, dict.bytes.data() + a, len);
        pos += len;
        offs[i] = static_cast<uint32_t>(pos);
      }
      break;
    }
  }
  return absl::OkStatus();
}

double Pow10(int scale) {
  double r = 1;
  for (int i = 0; i < scale && i < 400; ++i) r *= 10;
  return r;
}

absl::Status BigEndianDecimal(std::string_view b, int scale, double* out) {
  if (b.size() > 16) return Corrupt("decimal wider than 16 bytes is not supported");
  if (b.empty()) {
    *out = 0;
    return absl::OkStatus();
  }
  __int128 v = (static_cast<int8_t>(b[0]) < 0) ? -1 : 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  *out = static_cast<double>(v) / Pow10(scale);
  return absl::OkStatus();
}

// IEEE 754 half precision (little-endian in Parquet's FLOAT16) -> double, exactly.
double HalfToDouble(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 0x1F, frac = h & 0x3FF;
  double v;
  if (exp == 0) {
    v = std::ldexp(frac, -24);  // subnormal
  } else if (exp == 31) {
    v = frac == 0 ? HUGE_VAL : std::nan("");
  } else {
    v = std::ldexp(frac + 1024, exp - 25);
  }
  return sign ? -v : v;
}

// A big-endian two's-complement unscaled decimal that must fit an int64 (precision <= 18).
absl::Status BigEndianDecimal64(std::string_view b, int64_t* out) {
  if (b.size() > 16) return Corrupt("decimal wider than 16 bytes is not supported");
  __int128 v = (!b.empty() && static_cast<int8_t>(b[0]) < 0) ? -1 : 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  if (v > INT64_MAX || v < INT64_MIN) return Corrupt("decimal value exceeds its declared precision");
  *out = static_cast<int64_t>(v);
  return absl::OkStatus();
}

// Builds the output column from levels and dense physical values.
absl::Status BuildOutput(const Leaf& leaf, std::vector<uint8_t>& valid, Dense& d, Column* out) {
  Store s = StoreFor(leaf.physical);
  size_t rows = valid.size();
  out->Clear();
  out->type = leaf.type;
  out->valid = std::move(valid);
  const uint8_t* v = out->valid.data();
  const bool no_nulls = d.size(s) == rows;
  size_t j = 0;
  auto scatter = [&](auto& dst, auto get) {
    dst.resize(rows);
    if (no_nulls) {
      for (size_t i = 0; i < rows; ++i) dst[i] = get(i);
      return;
    }
    for (size_t i = 0; i < rows; ++i) {
      if (v[i]) {
        dst[i] = get(j++);
      } else {
        dst[i] = {};
      }
    }
  };
  // Same representation and no nulls: hand the dense values over as they are.
  if (no_nulls && leaf.conv == Leaf::Conv::kNone) {
    if (leaf.type == Type::kBool && s == Store::kU8) {
      out->u8 = std::move(d.u8);
      return absl::OkStatus();
    }
    if ((leaf.type == Type::kInt32 || leaf.type == Type::kDate) && s == Store::kI32) {
      out->i32 = std::move(d.i32);
      return absl::OkStatus();
    }
    if ((leaf.type == Type::kInt64 || leaf.type == Type::kTimestamp) && s == Store::kI64) {
      out->i64 = std::move(d.i64);
      return absl::OkStatus();
    }
    if (leaf.type == Type::kDouble && s == Store::kF64) {
      out->f64 = std::move(d.f64);
      return absl::OkStatus();
    }
    if (leaf.type == Type::kString) {
      out->offsets = std::move(d.offsets);
      out->bytes = std::move(d.bytes);
      return absl::OkStatus();
    }
  }
  switch (leaf.type) {
    case Type::kBool:
      scatter(out->u8, [&](size_t k) { return d.u8[k]; });
      break;
    case Type::kInt32:
    case Type::kDate:
      scatter(out->i32, [&](size_t k) { return d.i32[k]; });
      break;
    case Type::kInt64:
      if (s == Store::kI32) {
        scatter(out->i64, [&](size_t k) {
          return leaf.conv == Leaf::Conv::kUint32 ? static_cast<int64_t>(static_cast<uint32_t>(d.i32[k]))
                                                 : static_cast<int64_t>(d.i32[k]);
        });
      } else {
        scatter(out->i64, [&](size_t k) { return d.i64[k]; });
      }
      break;
    case Type::kTimestamp:
      scatter(out->i64, [&](size_t k) -> int64_t {
        int64_t x = d.i64[k];
        if (leaf.conv == Leaf::Conv::kTsMillis) return WrapMul(x, 1000);
        if (leaf.conv == Leaf::Conv::kTsNanos) return FloorDiv1000(x);
        return x;
      });
      break;
    case Type::kDecimal:
      out->scale = leaf.scale;
      if (s == Store::kI32) {
        scatter(out->i64, [&](size_t k) { return static_cast<int64_t>(d.i32[k]); });
      } else if (s == Store::kI64) {
        scatter(out->i64, [&](size_t k) { return d.i64[k]; });
      } else {
        absl::Status st;
        scatter(out->i64, [&](size_t k) {
          int64_t x = 0;
          auto r = BigEndianDecimal64(std::string_view(d.bytes.data() + d.offsets[k], d.offsets[k + 1] - d.offsets[k]), &x);
          if (!r.ok()) st = r;
          return x;
        });
        DE_RETURN_IF_ERROR(st);
      }
      break;
    case Type::kDouble:
      if (leaf.conv == Leaf::Conv::kDecimal) {
        double div = Pow10(leaf.scale);
        if (s == Store::kI32) {
          scatter(out->f64, [&](size_t k) { return d.i32[k] / div; });
        } else if (s == Store::kI64) {
          scatter(out->f64, [&](size_t k) { return static_cast<double>(d.i64[k]) / div; });
        } else {
          absl::Status st;
          scatter(out->f64, [&](size_t k) {
            double x = 0;
            auto r = BigEndianDecimal(std::string_view(d.bytes.data() + d.offsets[k], d.offsets[k + 1] - d.offsets[k]), leaf.scale, &x);
            if (!r.ok()) st = r;
            return x;
          });
          DE_RETURN_IF_ERROR(st);
        }
      } else if (leaf.conv == Leaf::Conv::kFloat16) {
        scatter(out->f64, [&](size_t k) {
          const auto* b = reinterpret_cast<const uint8_t*>(d.bytes.data() + d.offsets[k]);
          return HalfToDouble(static_cast<uint16_t>(b[0] | (b[1] << 8)));
        });
      } else {
        scatter(out->f64, [&](size_t k) { return d.f64[k]; });
      }
      break;
    case Type::kString: {
      if (leaf.conv == Leaf::Conv::kUuid) {  // 16 raw bytes -> 36 characters of text
        static constexpr char kHex[] = "0123456789abcdef";
        std::string text;
        out->offsets.resize(rows + 1);
        out->offsets[0] = 0;
        for (size_t i = 0; i < rows; ++i) {
          if (v[i]) {
            const char* u = d.bytes.data() + d.offsets[j++];
            for (int k = 0; k < 16; ++k) {
              if (k == 4 || k == 6 || k == 8 || k == 10) text.push_back('-');
              text.push_back(kHex[static_cast<uint8_t>(u[k]) >> 4]);
              text.push_back(kHex[static_cast<uint8_t>(u[k]) & 15]);
            }
          }
          out->offsets[i + 1] = static_cast<uint32_t>(text.size());
        }
        out->bytes = std::move(text);
        break;
      }
      out->offsets.resize(rows + 1);
      out->offsets[0] = 0;
      out->bytes = std::move(d.bytes);  // dense bytes are already in row order
      for (size_t i = 0; i < rows; ++i) {
        out->offsets[i + 1] = v[i] ? d.offsets[++j] : out->offsets[i];
      }
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status ResolveLeaf(const pq::SchemaElement& e, Leaf* leaf, Field* field) {
  field->name = e.name;
  field->nullable = e.repetition_type.value_or(pq::Repetition::kOptional) != pq::Repetition::kRequired;
  leaf->physical = *e.type;
  leaf->max_def = field->nullable ? 1 : 0;
  const pq::LogicalType& lt = e.logical_type;
  auto ct = e.converted_type;
  bool is_decimal = lt.kind == pq::LogicalType::kDecimal || ct == pq::ConvertedType::kDecimal;
  if (is_decimal) {
    leaf->conv = Leaf::Conv::kDecimal;
    leaf->scale = lt.kind == pq::LogicalType::kDecimal ? lt.scale : e.scale.value_or(0);
    if (leaf->scale < 0 || leaf->scale > 38) return Corrupt(absl::StrCat("column '", e.name, "': bad decimal scale"));
    int precision = lt.kind == pq::LogicalType::kDecimal ? lt.precision : e.precision.value_or(0);
    // Exact when the unscaled value fits an int64; wider decimals (DuckDB's SUM results are
    // DECIMAL(38,s)) are read as doubles.
    if (precision >= 1 && precision <= kMaxDecimalPrecision && leaf->scale <= precision) {
      field->precision = precision;
      field->scale = leaf->scale;
    }
  }
  const Type decimal_type = field->precision > 0 ? Type::kDecimal : Type::kDouble;
  switch (leaf->physical) {
    case pq::PhysicalType::kBoolean:
      field->type = Type::kBool;
      break;
    case pq::PhysicalType::kInt32:
      if (is_decimal) {
        field->type = decimal_type;
      } else if (lt.kind == pq::LogicalType::kDate || ct == pq::ConvertedType::kDate) {
        field->type = Type::kDate;
      } else if ((lt.kind == pq::LogicalType::kInteger && !lt.is_signed && lt.bit_width == 32) ||
                 ct == pq::ConvertedType::kUint32) {
        field->type = Type::kInt64;
        leaf->conv = Leaf::Conv::kUint32;
      } else {
        field->type = Type::kInt32;
      }
      break;
    case pq::PhysicalType::kInt64:
      if (is_decimal) {
        field->type = decimal_type;
      } else if (lt.kind == pq::LogicalType::kTimestamp) {
        field->type = Type::kTimestamp;
        if (lt.unit == pq::TimeUnit::kMillis) leaf->conv = Leaf::Conv::kTsMillis;
        if (lt.unit == pq::TimeUnit::kNanos) leaf->conv = Leaf::Conv::kTsNanos;
      } else if (ct == pq::ConvertedType::kTimestampMillis) {
        field->type = Type::kTimestamp;
        leaf->conv = Leaf::Conv::kTsMillis;
      } else if (ct == pq::ConvertedType::kTimestampMicros) {
        field->type = Type::kTimestamp;
      } else {
        field->type = Type::kInt64;
      }
      break;
    case pq::PhysicalType::kInt96:
      field->type = Type::kTimestamp;
      break;
    case pq::PhysicalType::kFloat:
    case pq::PhysicalType::kDouble:
      field->type = Type::kDouble;
      break;
    case pq::PhysicalType::kByteArray:
      field->type = is_decimal ? decimal_type : Type::kString;
      break;
    case pq::PhysicalType::kFixedLenByteArray:
      if (e.type_length.value_or(0) <= 0) return Corrupt(absl::StrCat("column '", e.name, "': FIXED_LEN_BYTE_ARRAY without a length"));
      leaf->type_length = *e.type_length;
      field->type = is_decimal ? decimal_type : Type::kString;
      if (lt.kind == pq::LogicalType::kUuid && leaf->type_length == 16) leaf->conv = Leaf::Conv::kUuid;
      if (lt.kind == pq::LogicalType::kFloat16) {
        if (leaf->type_length != 2) return Corrupt(absl::StrCat("column '", e.name, "': FLOAT16 is not 2 bytes wide"));
        field->type = Type::kDouble;
        leaf->conv = Leaf::Conv::kFloat16;
      }
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("parquet: column '", e.name, "' has unknown physical type ",
                                                   static_cast<int>(leaf->physical)));
  }
  leaf->type = field->type;
  return absl::OkStatus();
}

}  // namespace

ParquetReader::~ParquetReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<ParquetReader>> ParquetReader::Open(const std::string& path) {
  std::unique_ptr<ParquetReader> r(new ParquetReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return absl::NotFoundError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  DE_RETURN_IF_ERROR(r->Init());
  return r;
}

namespace {
absl::Status PRead(int fd, int64_t offset, size_t n, char* dst, const std::string& path) {
  while (n > 0) {
    ssize_t got = ::pread(fd, dst, n, offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
    }
    if (got == 0) return absl::DataLossError(absl::StrCat(path, ": unexpected end of file"));
    dst += got;
    n -= static_cast<size_t>(got);
    offset += got;
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status ParquetReader::Init() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return absl::InternalError(absl::StrCat("stat ", path_, ": ", std::strerror(errno)));
  file_size_ = st.st_size;
  auto bad = [&](absl::string_view what) { return absl::DataLossError(absl::StrCat(path_, ": ", what)); };
  if (file_size_ < 12) return bad("not a Parquet file (too small)");
  char head[4], tail[8];
  DE_RETURN_IF_ERROR(PRead(fd_, 0, 4, head, path_));
  DE_RETURN_IF_ERROR(PRead(fd_, file_size_ - 8, 8, tail, path_));
  if (std::memcmp(tail + 4, "PARE", 4) == 0) return absl::UnimplementedError(absl::StrCat(path_, ": encrypted Parquet files are not supported"));
  if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0) return bad("not a Parquet file (bad magic)");
  uint32_t footer_len = LoadLE32(tail);
  if (footer_len == 0 || footer_len > static_cast<uint64_t>(file_size_ - 12)) return bad("bad footer length");
  std::string footer(footer_len, '\0');
  DE_RETURN_IF_ERROR(PRead(fd_, file_size_ - 8 - footer_len, footer_len, footer.data(), path_));
  if (auto s = pq::ParseFileMetaData(footer.data(), footer.size(), &metadata_); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path_, ": ", s.message()));
  }
  // Schema: a root group whose children are all primitive (flat).
  const auto& sch = metadata_.schema;
  if (sch.empty()) return bad("empty schema");
  if (sch[0].type) return bad("schema root is not a group");
  size_t i = 1;
  while (i < sch.size()) {
    const pq::SchemaElement& e = sch[i];
    if (!e.type || e.num_children.value_or(0) > 0 || e.repetition_type == pq::Repetition::kRepeated) {
      const char* kind = "STRUCT";
      if (e.logical_type.kind == pq::LogicalType::kList || e.converted_type == pq::ConvertedType::kList) kind = "LIST";
      if (e.logical_type.kind == pq::LogicalType::kMap || e.converted_type == pq::ConvertedType::kMap ||
          e.converted_type == pq::ConvertedType::kMapKeyValue) {
        kind = "MAP";
      }
      if (e.type) kind = "repeated";
      return absl::UnimplementedError(absl::StrCat(path_, ": nested column '", e.name, "' (", kind,
                                                   ") is not supported; only flat columns can be read"));
    }
    Leaf leaf;
    Field field;
    DE_RETURN_IF_ERROR(ResolveLeaf(e, &leaf, &field));
    leaves_.push_back(leaf);
    schema_.push_back(field);
    ++i;
  }
  if (static_cast<size_t>(sch[0].num_children.value_or(0)) != leaves_.size()) return bad("schema root child count mismatch");
  int64_t total = 0;
  for (const auto& rg : metadata_.row_groups) {
    if (rg.columns.size() != leaves_.size()) return bad("row group column count does not match the schema");
    if (rg.num_rows < 0 || rg.num_rows > INT32_MAX) return bad("bad row group row count");
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const auto& cc = rg.columns[c];
      if (!cc.meta_data) return bad("column chunk without metadata");
      if (cc.file_path) return absl::UnimplementedError(absl::StrCat(path_, ": column data in external files is not supported"));
      if (cc.meta_data->type != leaves_[c].physical) return bad("column chunk type does not match the schema");
    }
    total += rg.num_rows;
  }
  if (total != metadata_.num_rows) return bad("row groups do not add up to the file's row count");
  return absl::OkStatus();
}

absl::Status ParquetReader::ReadChunk(int rg_index, int col, Column* out) const {
  const pq::RowGroup& rg = metadata_.row_groups[rg_index];
  const pq::ColumnMetaData& md = *rg.columns[col].meta_data;
  const Leaf& leaf = leaves_[col];
  const std::string& name = schema_[col].name;
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(path_, ": column '", name, "' row group ", rg_index, ": ", what));
  };
  Codec codec;
  if (!CodecFromParquetId(static_cast<int>(md.codec), &codec)) {
    return absl::UnimplementedError(absl::StrCat(path_, ": column '", name, "': compression codec ",
                                                 ParquetCodecName(static_cast<int>(md.codec)),
                                                 " is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, "
                                                 "ZSTD, LZ4, LZ4_RAW)"));
  }
  if (md.num_values == 0 && rg.num_rows == 0) {  // nothing to read (writers leave offsets at 0)
    std::vector<uint8_t> none;
    Dense empty;
    return BuildOutput(leaf, none, empty, out);
  }
  int64_t start = md.data_page_offset;
  if (md.dictionary_page_offset && *md.dictionary_page_offset > 0 && *md.dictionary_page_offset < start) {
    start = *md.dictionary_page_offset;
  }
  int64_t len = md.total_compressed_size;
  if (start < 4 || len < 0 || start > file_size_ - 8 || len > file_size_ - 8 - start) return bad("column chunk outside the file");
  if (md.num_values != rg.num_rows) return bad("value count differs from the row count (nested data?)");
  std::string chunk(static_cast<size_t>(len), '\0');
  DE_RETURN_IF_ERROR(PRead(fd_, start, chunk.size(), chunk.data(), path_));

  const Store store = StoreFor(leaf.physical);
  Dense dict, dense;
  bool have_dict = false;
  std::vector<uint8_t> valid;
  valid.reserve(static_cast<size_t>(std::min<int64_t>(rg.num_rows, 1 << 24)));
  std::string page;  // decompressed page
  std::vector<uint8_t> defs;
  std::vector<uint32_t> indices;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(chunk.data());
  size_t pos = 0;
  int64_t values_read = 0;
  size_t expected_dense = 0;
  while (values_read < md.num_values) {
    if (pos >= chunk.size()) return bad("column chunk ends before all values were read");
    pq::PageHeader ph;
    size_t hlen;
    if (auto s = pq::ParsePageHeader(base + pos, chunk.size() - pos, &ph, &hlen); !s.ok()) return bad(s.message());
    pos += hlen;
    size_t csize = static_cast<size_t>(ph.compressed_page_size);
    size_t usize = static_cast<size_t>(ph.uncompressed_page_size);
    if (csize > chunk.size() - pos) return bad("page runs past the end of the column chunk");
    const uint8_t* pdata = base + pos;
    pos += csize;
    if (usize > (1ull << 31)) return bad("page too large");

    auto decompress = [&](const uint8_t* src, size_t n, size_t out_n, const uint8_t** result) -> absl::Status {
      if (n == 0 && out_n == 0) {  // an empty page (e.g. a v2 page of nulls only): nothing to inflate
        *result = src;
        return absl::OkStatus();
      }
      if (codec == Codec::kNone) {
        if (n != out_n) return bad("uncompressed page size mismatch");
        *result = src;
        return absl::OkStatus();
      }
      page.resize(out_n);
      if (auto s = DecompressBlock(codec, reinterpret_cast<const char*>(src), n, page.data(), out_n); !s.ok()) {
        return bad(s.message());
      }
      *result = reinterpret_cast<const uint8_t*>(page.data());
      return absl::OkStatus();
    };

    if (ph.type == pq::PageType::kDictionaryPage) {
      if (!ph.dictionary_page_header) return bad("dictionary page without its header");
      if (have_dict) return bad("more than one dictionary page");
      const auto& dh = *ph.dictionary_page_header;
      if (dh.encoding != pq::Encoding::kPlain && dh.encoding != pq::Encoding::kPlainDictionary) {
        return bad("dictionary page is not PLAIN-encoded");
      }
      if (dh.num_values < 0 || static_cast<size_t>(dh.num_values) > usize * 8 + 8) return bad("bad dictionary size");
      const uint8_t* data;
      DE_RETURN_IF_ERROR(decompress(pdata, csize, usize, &data));
      if (auto s = DecodePlain(leaf, data, usize, static_cast<size_t>(dh.num_values), &dict); !s.ok()) return bad(s.message());
      have_dict = true;
      continue;
    }
    if (ph.type != pq::PageType::kDataPage && ph.type != pq::PageType::kDataPageV2) continue;  // index pages etc.

    size_t num_values;
    pq::Encoding encoding;
    const uint8_t* values;
    size_t values_size;
    defs.clear();
    if (ph.type == pq::PageType::kDataPage) {
      if (!ph.data_page_header) return bad("data page without its header");
      const auto& dh = *ph.data_page_header;
      if (dh.num_values < 0) return bad("negative value count");
      num_values = static_cast<size_t>(dh.num_values);
      if (static_cast<int64_t>(num_values) > md.num_values - values_read) return bad("more values than the column chunk declares");
      encoding = dh.encoding;
      const uint8_t* data;
      DE_RETURN_IF_ERROR(decompress(pdata, csize, usize, &data));
      size_t off = 0;
      if (leaf.max_def > 0) {
        if (dh.definition_level_encoding != pq::Encoding::kRle) return bad("definition levels are not RLE-encoded");
        if (usize < 4) return bad("definition levels run past the end of the page");
        uint32_t dl = LoadLE32(data);
        if (dl > usize - 4) return bad("definition levels run past the end of the page");
        defs.resize(num_values);
        RleDecoder dec(data + 4, dl, 1);
        if (auto s = dec.Get(defs.data(), num_values); !s.ok()) return bad(s.message());
        off = 4 + dl;
      }
      values = data + off;
      values_size = usize - off;
    } else {
      if (!ph.data_page_header_v2) return bad("data page v2 without its header");
      const auto& dh = *ph.data_page_header_v2;
      if (dh.num_values < 0 || dh.definition_levels_byte_length < 0 || dh.repetition_levels_byte_length < 0) {
        return bad("bad data page v2 header");
      }
      num_values = static_cast<size_t>(dh.num_values);
      if (static_cast<int64_t>(num_values) > md.num_values - values_read) return bad("more values than the column chunk declares");
      encoding = dh.encoding;
      size_t rl = static_cast<size_t>(dh.repetition_levels_byte_length);
      size_t dl = static_cast<size_t>(dh.definition_levels_byte_length);
      if (rl + dl > csize || rl + dl > usize) return bad("levels run past the end of the page");
      if (leaf.max_def > 0) {
        defs.resize(num_values);
        RleDecoder dec(pdata + rl, dl, 1);
        if (auto s = dec.Get(defs.data(), num_values); !s.ok()) return bad(s.message());
      }
      if (dh.is_compressed) {
        DE_RETURN_IF_ERROR(decompress(pdata + rl + dl, csize - rl - dl, usize - rl - dl, &values));
      } else {
        if (csize != usize) return bad("uncompressed page size mismatch");
        values = pdata + rl + dl;
      }
      values_size = usize - rl - dl;
    }
    size_t nonnull = num_values;
    if (leaf.max_def > 0) {
      nonnull = 0;
      for (uint8_t d : defs) {
        if (d > 1) return bad("definition level out of range");
        nonnull += d;
      }
      valid.insert(valid.end(), defs.begin(), defs.end());
    } else {
      valid.insert(valid.end(), num_values, 1);
    }

    absl::Status s;
    switch (encoding) {
      case pq::Encoding::kPlain:
        s = DecodePlain(leaf, values, values_size, nonnull, &dense);
        break;
      case pq::Encoding::kPlainDictionary:
      case pq::Encoding::kRleDictionary: {
        if (!have_dict) return bad("dictionary-encoded page without a dictionary page");
        if (nonnull == 0) break;
        if (values_size < 1) return bad("dictionary indices missing");
        int bw = values[0];
        if (bw > 32) return bad("bad dictionary index bit width");
        indices.resize(nonnull);
        RleDecoder dec(values + 1, values_size - 1, bw);
        s = dec.Get(indices.data(), nonnull);
        if (s.ok()) s = Gather(store, dict, indices.data(), nonnull, &dense);
        break;
      }
      case pq::Encoding::kRle: {
        if (leaf.physical != pq::PhysicalType::kBoolean) return bad("RLE encoding on a non-boolean column");
        if (values_size < 4) return bad("RLE booleans missing");
        uint32_t bl = LoadLE32(values);
        if (bl > values_size - 4) return bad("RLE booleans run past the end of the page");
        size_t old = dense.u8.size();
        dense.u8.resize(old + nonnull);
        RleDecoder dec(values + 4, bl, 1);
        s = dec.Get(dense.u8.data() + old, nonnull);
        break;
      }
      case pq::Encoding::kDeltaBinaryPacked: {
        if (store != Store::kI32 && store != Store::kI64) return bad("DELTA_BINARY_PACKED on a non-integer column");
        std::vector<int64_t> tmp;
        size_t used;
        s = DecodeDeltaBinaryPacked(values, values_size, nonnull, &tmp, &used);
        if (s.ok()) {
          if (store == Store::kI32) {
            for (int64_t x : tmp) dense.i32.push_back(static_cast<int32_t>(x));
          } else if (leaf.physical == pq::PhysicalType::kInt64) {
            dense.i64.insert(dense.i64.end(), tmp.begin(), tmp.end());
          } else {
            return bad("DELTA_BINARY_PACKED on an INT96 column");
          }
        }
        break;
      }
      case pq::Encoding::kDeltaLengthByteArray:
        if (leaf.physical != pq::PhysicalType::kByteArray) return bad("DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
        s = DecodeDeltaLengthByteArray(values, values_size, nonnull, &dense);
        break;
      case pq::Encoding::kDeltaByteArray:
        if (store != Store::kStr) return bad("DELTA_BYTE_ARRAY on a non-byte-array column");
        s = DecodeDeltaByteArray(values, values_size, nonnull, &dense);
        break;
      case pq::Encoding::kByteStreamSplit:
        s = DecodeByteStreamSplit(leaf, values, values_size, nonnull, &dense);
        break;
      default:
        return absl::UnimplementedError(absl::StrCat(path_, ": column '", name, "': encoding ",
                                                     static_cast<int>(encoding), " is not supported"));
    }
    if (!s.ok()) return bad(s.message());
    expected_dense += nonnull;
    if (dense.size(store) != expected_dense) return bad("page decoded to the wrong number of values");
    values_read += static_cast<int64_t>(num_values);
  }
  if (valid.size() != static_cast<size_t>(rg.num_rows)) return bad("row count mismatch");
  return BuildOutput(leaf, valid, dense, out);
}

absl::StatusOr<Batch> ParquetReader::ReadRowGroup(int i, const std::vector<int>& columns) const {
  if (i < 0 || i >= num_row_groups()) return absl::OutOfRangeError(absl::StrCat("row group ", i, " does not exist"));
  std::vector<int> cols = columns;
  if (cols.empty()) {
    for (size_t c = 0; c < schema_.size(); ++c) cols.push_back(static_cast<int>(c));
  }
  Batch batch;
  batch.num_rows = static_cast<size_t>(metadata_.row_groups[i].num_rows);
  batch.columns.resize(cols.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    int c = cols[k];
    if (c < 0 || static_cast<size_t>(c) >= schema_.size()) return absl::OutOfRangeError(absl::StrCat("column ", c, " does not exist"));
    DE_RETURN_IF_ERROR(ReadChunk(i, c, &batch.columns[k]));
  }
  return batch;
}

absl::StatusOr<Batch> ParquetReader::ReadAll(const std::vector<int>& columns) const {
  Batch all;
  std::vector<int> cols = columns;
  if (cols.empty()) {
    for (size_t c = 0; c < schema_.size(); ++c) cols.push_back(static_cast<int>(c));
  }
  all.columns.resize(cols.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    all.columns[k].type = schema_.at(cols[k]).type;
    all.columns[k].scale = schema_.at(cols[k]).scale;
  }
  for (int g = 0; g < num_row_groups(); ++g) {
    DE_ASSIGN_OR_RETURN(Batch b, ReadRowGroup(g, cols));
    for (size_t k = 0; k < cols.size(); ++k) {
      Column& dst = all.columns[k];
      Column& src = b.columns[k];
      dst.valid.insert(dst.valid.end(), src.valid.begin(), src.valid.end());
      dst.u8.insert(dst.u8.end(), src.u8.begin(), src.u8.end());
      dst.i32.insert(dst.i32.end(), src.i32.begin(), src.i32.end());
      dst.i64.insert(dst.i64.end(), src.i64.begin(), src.i64.end());
      dst.f64.insert(dst.f64.end(), src.f64.begin(), src.f64.end());
      if (dst.type == Type::kString) {
        if (dst.bytes.size() + src.bytes.size() > UINT32_MAX) return absl::ResourceExhaustedError("string data exceeds 4 GiB");
        uint32_t base = static_cast<uint32_t>(dst.bytes.size());
        for (size_t r = 1; r < src.offsets.size(); ++r) dst.offsets.push_back(base + src.offsets[r]);
        dst.bytes += src.bytes;
      }
    }
    all.num_rows += b.num_rows;
  }
  return all;
}

absl::StatusOr<ColumnChunkStats> ParquetReader::Statistics(int row_group, int column) const {
  if (row_group < 0 || row_group >= num_row_groups()) return absl::OutOfRangeError("no such row group");
  if (column < 0 || static_cast<size_t>(column) >= schema_.size()) return absl::OutOfRangeError("no such column");
  const pq::ColumnMetaData& md = *metadata_.row_groups[row_group].columns[column].meta_data;
  const Leaf& leaf = leaves_[column];
  ColumnChunkStats out;
  out.num_values = md.num_values;
  if (!md.statistics) return out;
  const pq::Statistics& s = *md.statistics;
  out.null_count = s.null_count;
  const std::string* lo = nullptr;
  const std::string* hi = nullptr;
  if (s.min_value && s.max_value) {
    lo = &*s.min_value;
    hi = &*s.max_value;
  } else if (s.min && s.max && leaf.physical != pq::PhysicalType::kByteArray &&
             leaf.physical != pq::PhysicalType::kFixedLenByteArray && leaf.conv != Leaf::Conv::kUint32) {
    lo = &*s.min;  // deprecated fields: signed order, valid for these types
    hi = &*s.max;
  }
  if (lo == nullptr) return out;
  Dense d;
  std::vector<uint8_t> valid = {1, 1};
  std::string both;
  absl::Status st;
  if (StoreFor(leaf.physical) == Store::kStr) {
    st = d.AppendString(lo->data(), lo->size());
    if (st.ok()) st = d.AppendString(hi->data(), hi->size());
  } else {
    size_t w = leaf.physical == pq::PhysicalType::kBoolean ? 1
               : leaf.physical == pq::PhysicalType::kInt96 ? 12
               : (leaf.physical == pq::PhysicalType::kInt32 || leaf.physical == pq::PhysicalType::kFloat) ? 4 : 8;
    if (lo->size() != w || hi->size() != w) return out;  // malformed: ignore
    if (leaf.physical == pq::PhysicalType::kBoolean) {
      d.u8 = {static_cast<uint8_t>((*lo)[0] & 1), static_cast<uint8_t>((*hi)[0] & 1)};
    } else {
      both = *lo + *hi;
      st = DecodePlain(leaf, reinterpret_cast<const uint8_t*>(both.data()), both.size(), 2, &d);
    }
  }
  if (!st.ok()) return out;
  Column c;
  if (!BuildOutput(leaf, valid, d, &c).ok()) return out;
  out.has_min_max = true;
  switch (c.type) {
    case Type::kBool: out.min_int = c.u8[0]; out.max_int = c.u8[1]; break;
    case Type::kInt32:
    case Type::kDate: out.min_int = c.i32[0]; out.max_int = c.i32[1]; break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: out.min_int = c.i64[0]; out.max_int = c.i64[1]; break;
    case Type::kDouble: out.min_double = c.f64[0]; out.max_double = c.f64[1]; break;
    case Type::kString: out.min_string = std::string(c.str(0)); out.max_string = std::string(c.str(1)); break;
  }
  return out;
}

}  // namespace de::engine
