#include "engine/ops/clean_cast.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/csv/csv_values.h"

namespace de::engine {

namespace {

constexpr int64_t kMicrosPerDay = 86400ll * 1000000;

bool IsInt(Type t) { return t == Type::kInt32 || t == Type::kInt64; }

// Reads row i of a numeric-ish column as int64 (bool, int32, int64).
inline int64_t IntAt(const Column& c, size_t i) {
  switch (c.type) {
    case Type::kBool: return c.u8[i];
    case Type::kInt32: return c.i32[i];
    default: return c.i64[i];
  }
}

void Prepare(Column* out, Type to, size_t n) {
  out->Clear();
  out->type = to;
  out->valid.assign(n, 0);
  switch (to) {
    case Type::kBool: out->u8.assign(n, 0); break;
    case Type::kInt32: case Type::kDate: out->i32.assign(n, 0); break;
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: out->i64.assign(n, 0); break;
    case Type::kDouble: out->f64.assign(n, 0); break;
    case Type::kString: out->offsets.reserve(n + 1); break;
  }
}

inline double DecimalValue(const Column& c, size_t i) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
                                      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
  return static_cast<double>(c.i64[i]) / kPow10[std::clamp(c.scale, 0, 18)];
}

// Stores an int64 into `out` (type int32/int64/double/bool); false when out of range.
inline bool PutInt(Column* out, size_t i, int64_t v) {
  switch (out->type) {
    case Type::kInt32:
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return false;
      }
      out->i32[i] = static_cast<int32_t>(v);
      return true;
    case Type::kInt64: out->i64[i] = v; return true;
    case Type::kDouble: out->f64[i] = static_cast<double>(v); return true;
    case Type::kBool: out->u8[i] = v != 0; return true;
    default: return false;
  }
}

inline bool PutDouble(Column* out, size_t i, double v) {
  if (out->type == Type::kDouble) {
    out->f64[i] = v;
    return true;
  }
  if (out->type == Type::kBool) {
    out->u8[i] = v != 0;
    return true;
  }
  if (!std::isfinite(v)) return false;
  double r = std::nearbyint(v);
  if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return false;
  return PutInt(out, i, static_cast<int64_t>(r));
}

inline bool ParseInto(std::string_view s, Column* out, size_t i) {
  switch (out->type) {
    case Type::kBool: return ParseCsvBool(s, &out->u8[i]);
    case Type::kInt32: case Type::kInt64: {
      int64_t v;
      return ParseCsvInt64(s, &v) && PutInt(out, i, v);
    }
    case Type::kDouble: return ParseCsvDouble(s, &out->f64[i]);
    case Type::kDate: return ParseCsvDate(s, &out->i32[i]);
    case Type::kTimestamp: return ParseCsvTimestamp(s, &out->i64[i]);
    case Type::kString: case Type::kDecimal: return true;
  }
  return false;
}

// Converts row i of `in` into `out`; false when the value does not convert.
inline bool ConvertOne(const Column& in, size_t i, Column* out) {
  switch (in.type) {
    case Type::kString: return ParseInto(in.str(i), out, i);
    case Type::kBool: case Type::kInt32: case Type::kInt64: return PutInt(out, i, IntAt(in, i));
    case Type::kDouble: return PutDouble(out, i, in.f64[i]);
    case Type::kDecimal: return PutDouble(out, i, DecimalValue(in, i));
    case Type::kDate:
      out->i64[i] = static_cast<int64_t>(in.i32[i]) * kMicrosPerDay;
      return true;
    case Type::kTimestamp: {
      int64_t v = in.i64[i];
      int64_t d = v / kMicrosPerDay - (v % kMicrosPerDay < 0 ? 1 : 0);
      if (d < std::numeric_limits<int32_t>::min() || d > std::numeric_limits<int32_t>::max()) {
        return false;
      }
      out->i32[i] = static_cast<int32_t>(d);
      return true;
    }
  }
  return false;
}

}  // namespace

bool CanCast(Type from, Type to) {
  if (to == Type::kDecimal) return from == to;  // casts to decimal(p,s) are not offered
  if (from == to || to == Type::kString || from == Type::kString) return true;
  switch (from) {
    case Type::kDecimal: return to == Type::kDouble || IsInt(to);
    case Type::kBool: case Type::kInt32: case Type::kInt64: case Type::kDouble:
      return to == Type::kBool || IsInt(to) || to == Type::kDouble;
    case Type::kDate: return to == Type::kTimestamp;
    case Type::kTimestamp: return to == Type::kDate;
    default: return false;
  }
}

void AppendValueText(const Column& c, size_t row, std::string* out) {
  if (!c.valid[row]) return;
  char buf[64];
  switch (c.type) {
    case Type::kString: out->append(c.str(row)); return;
    case Type::kBool: out->append(c.u8[row] ? "true" : "false"); return;
    case Type::kInt32: case Type::kInt64: {
      auto r = std::to_chars(buf, buf + sizeof buf, IntAt(c, row));
      out->append(buf, r.ptr);
      return;
    }
    case Type::kDouble: {
      auto r = std::to_chars(buf, buf + sizeof buf, c.f64[row]);
      out->append(buf, r.ptr);
      return;
    }
    case Type::kDate: out->append(FormatDate(c.i32[row])); return;
    case Type::kTimestamp: out->append(FormatTimestamp(c.i64[row])); return;
    case Type::kDecimal: out->append(FormatDecimal(c.i64[row], c.scale)); return;
  }
}

void CastColumn(Column* c, Type to, std::vector<CastFailure>* failures, Column* scratch) {
  if (c->type == to) return;
  const size_t n = c->size();
  Prepare(scratch, to, n);
  if (to == Type::kString) {
    for (size_t i = 0; i < n; ++i) {
      scratch->valid[i] = c->valid[i];
      AppendValueText(*c, i, &scratch->bytes);
      scratch->offsets.push_back(static_cast<uint32_t>(scratch->bytes.size()));
    }
  } else if (c->type == Type::kInt64 && to == Type::kInt32) {
    // The common narrowing, as a tight loop.
    const int64_t* in = c->i64.data();
    int32_t* out = scratch->i32.data();
    const uint8_t* valid = c->valid.data();
    uint8_t* ok = scratch->valid.data();
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = in[i];
      const bool fits = v == static_cast<int32_t>(v);
      const uint8_t good = valid[i] & fits;
      out[i] = static_cast<int32_t>(v) & -static_cast<int32_t>(good);  // nulls hold 0
      ok[i] = good;
      if (__builtin_expect(valid[i] && !fits, 0)) {
        CastFailure f;
        f.row = static_cast<uint32_t>(i);
        AppendValueText(*c, i, &f.value);
        failures->push_back(std::move(f));
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (!c->valid[i]) continue;
      if (ConvertOne(*c, i, scratch)) {
        scratch->valid[i] = 1;
      } else {
        CastFailure f;
        f.row = static_cast<uint32_t>(i);
        AppendValueText(*c, i, &f.value);
        if (f.value.size() > 200) f.value.resize(200);
        failures->push_back(std::move(f));
      }
    }
  }
  std::swap(*c, *scratch);
}

std::string CastReason(std::string_view column, std::string_view value, Type to) {
  std::string s = "cast ";
  s.append(column).append(" '").append(value).append("' to ").append(TypeName(to));
  return s;
}

}  // namespace de::engine
