// Typed output columns from dense physical values: logical conversions (timestamps, decimals,
// FLOAT16, UUID, UINT32) and scattering values around the null slots.
#include <cmath>
#include <cstring>

#include "common/status.h"
#include "engine/parquet/parquet_decode.h"

namespace de::engine::parquet_internal {

namespace {

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

}  // namespace

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

}  // namespace de::engine::parquet_internal
