// Aggregate states (see aggregate_function.h for the semantics of each function).
#include "engine/ops/aggregate_states.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace de::engine::agg {

namespace {

// The value vector of a column by storage type.
template <typename T> const T* Values(const Column& c);
template <> const uint8_t* Values<uint8_t>(const Column& c) { return c.u8.data(); }
template <> const int32_t* Values<int32_t>(const Column& c) { return c.i32.data(); }
template <> const int64_t* Values<int64_t>(const Column& c) { return c.i64.data(); }
template <> const double* Values<double>(const Column& c) { return c.f64.data(); }

// Appends a value of result type `c->type`.
void PutInt(Column* c, int64_t v) {
  c->valid.push_back(1);
  switch (c->type) {
    case Type::kBool: c->u8.push_back(static_cast<uint8_t>(v)); break;
    case Type::kInt32: case Type::kDate: c->i32.push_back(static_cast<int32_t>(v)); break;
    case Type::kDouble: c->f64.push_back(static_cast<double>(v)); break;
    default: c->i64.push_back(v); break;
  }
}
void PutDouble(Column* c, double v) {
  c->valid.push_back(1);
  c->f64.push_back(v);
}
template <typename T>
void Put(Column* c, T v) {
  if constexpr (std::is_same_v<T, double>) PutDouble(c, v);
  else PutInt(c, static_cast<int64_t>(v));
}
void PutString(Column* c, std::string_view s) {
  c->valid.push_back(1);
  c->bytes.append(s.data(), s.size());
  c->offsets.push_back(static_cast<uint32_t>(c->bytes.size()));
}

// Total order for min/max/quantile: NaN above every number (as DuckDB).
template <typename T>
inline bool Less(T a, T b) {
  if constexpr (std::is_same_v<T, double>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

// ---------------------------------------------------------------------------------------------

class CountStarState : public AggregateState {
 public:
  explicit CountStarState(bool star) : star_(star) {}
  void Resize(size_t groups) override { n_.resize(groups, 0); }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    int64_t* n = n_.data();
    if (star_ || input == nullptr) {
      ForEachSelected(sel, [&](size_t i, uint32_t) { ++n[g[i]]; });
    } else {
      const uint8_t* valid = input->valid.data();
      ForEachSelected(sel, [&](size_t i, uint32_t row) { n[g[i]] += valid[row]; });
    }
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<CountStarState&>(other);
    for (size_t j = 0; j < o.n_.size(); ++j) n_[map[j]] += o.n_[j];
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    out->valid.assign(n_.size(), 1);
    out->i64 = n_;
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return n_.capacity() * 8; }

 private:
  const bool star_;
  std::vector<int64_t> n_;
};

// sum over int32/int64 -> int64, with overflow checks.
template <typename T>
class SumIntState : public AggregateState {
 public:
  void Resize(size_t groups) override {
    sum_.resize(groups, 0);
    has_.resize(groups, 0);
  }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const T* v = Values<T>(*input);
    const uint8_t* valid = input->valid.data();
    int64_t* sum = sum_.data();
    uint8_t* has = has_.data();
    bool overflow = false;
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) {
        const uint32_t k = g[i];
        overflow |= __builtin_add_overflow(sum[k], static_cast<int64_t>(v[row]), &sum[k]);
        has[k] = 1;
      }
    });
    if (overflow) return absl::OutOfRangeError("the sum overflows int64");
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<SumIntState&>(other);
    for (size_t j = 0; j < o.sum_.size(); ++j) {
      if (!o.has_[j]) continue;
      if (__builtin_add_overflow(sum_[map[j]], o.sum_[j], &sum_[map[j]])) {
        return absl::OutOfRangeError("the sum overflows int64");
      }
      has_[map[j]] = 1;
    }
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    out->valid = has_;
    out->i64 = sum_;
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sum_.capacity() * 9; }

 private:
  std::vector<int64_t> sum_;
  std::vector<uint8_t> has_;
};

class SumDoubleState : public AggregateState {
 public:
  void Resize(size_t groups) override {
    sum_.resize(groups, 0);
    has_.resize(groups, 0);
  }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const double* v = input->f64.data();
    const uint8_t* valid = input->valid.data();
    double* sum = sum_.data();
    uint8_t* has = has_.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) {
        sum[g[i]] += v[row];
        has[g[i]] = 1;
      }
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<SumDoubleState&>(other);
    for (size_t j = 0; j < o.sum_.size(); ++j) {
      if (!o.has_[j]) continue;
      sum_[map[j]] += o.sum_[j];
      has_[map[j]] = 1;
    }
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    out->valid = has_;
    out->f64 = sum_;
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sum_.capacity() * 9; }

 private:
  std::vector<double> sum_;
  std::vector<uint8_t> has_;
};

template <typename T, bool kMax>
class MinMaxState : public AggregateState {
 public:
  void Resize(size_t groups) override {
    val_.resize(groups, T{});
    has_.resize(groups, 0);
  }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const T* v = Values<T>(*input);
    const uint8_t* valid = input->valid.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) Add(g[i], v[row]);
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<MinMaxState&>(other);
    for (size_t j = 0; j < o.val_.size(); ++j) {
      if (o.has_[j]) Add(map[j], o.val_[j]);
    }
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    for (size_t k = 0; k < val_.size(); ++k) {
      if (has_[k]) Put(out, val_[k]);
      else AppendNull(out);
    }
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return val_.capacity() * (sizeof(T) + 1); }

 private:
  inline void Add(uint32_t k, T x) {
    if (!has_[k]) {
      val_[k] = x;
      has_[k] = 1;
    } else if (kMax ? Less(val_[k], x) : Less(x, val_[k])) {
      val_[k] = x;
    }
  }
  std::vector<T> val_;
  std::vector<uint8_t> has_;
};

template <bool kMax>
class MinMaxStringState : public AggregateState {
 public:
  void Resize(size_t groups) override {
    val_.resize(groups);
    has_.resize(groups, 0);
  }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const uint8_t* valid = input->valid.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) Add(g[i], input->str(row));
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<MinMaxStringState&>(other);
    for (size_t j = 0; j < o.val_.size(); ++j) {
      if (o.has_[j]) Add(map[j], o.val_[j]);
    }
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    for (size_t k = 0; k < val_.size(); ++k) {
      if (has_[k]) PutString(out, val_[k]);
      else AppendNull(out);
    }
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override {
    size_t b = val_.capacity() * (sizeof(std::string) + 1);
    for (const auto& s : val_) b += s.capacity() > 15 ? s.capacity() : 0;
    return b;
  }

 private:
  inline void Add(uint32_t k, std::string_view x) {
    if (!has_[k]) {
      val_[k].assign(x);
      has_[k] = 1;
    } else if (kMax ? std::string_view(val_[k]) < x : x < std::string_view(val_[k])) {
      val_[k].assign(x);
    }
  }
  std::vector<std::string> val_;
  std::vector<uint8_t> has_;
};

// avg: integers summed exactly in 128 bits, doubles in double.
template <typename T>
class AvgState : public AggregateState {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, __int128>;

 public:
  // `divisor`: 10^scale for decimal inputs (their values are unscaled), else 1.
  explicit AvgState(double divisor) : divisor_(divisor) {}
  void Resize(size_t groups) override {
    sum_.resize(groups, 0);
    n_.resize(groups, 0);
  }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const T* v = Values<T>(*input);
    const uint8_t* valid = input->valid.data();
    Acc* sum = sum_.data();
    int64_t* n = n_.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) {
        sum[g[i]] += static_cast<Acc>(v[row]);
        ++n[g[i]];
      }
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<AvgState&>(other);
    for (size_t j = 0; j < o.n_.size(); ++j) {
      sum_[map[j]] += o.sum_[j];
      n_[map[j]] += o.n_[j];
    }
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    for (size_t k = 0; k < n_.size(); ++k) {
      if (n_[k] == 0) AppendNull(out);
      else PutDouble(out, static_cast<double>(sum_[k]) / static_cast<double>(n_[k]) / divisor_);
    }
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return n_.capacity() * (sizeof(Acc) + 8); }

 private:
  const double divisor_;
  std::vector<Acc> sum_;
  std::vector<int64_t> n_;
};

// The bits of a fixed-width value for hashing/distinctness (-0.0 = 0.0; one NaN).
template <typename T>
inline int64_t KeyBits(T v) {
  if constexpr (std::is_same_v<T, double>) {
    if (v == 0) v = 0;
    if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
    int64_t b;
    std::memcpy(&b, &v, 8);
    return b;
  } else {
    return static_cast<int64_t>(v);
  }
}

template <typename T>
class CountDistinctState : public AggregateState {
 public:
  void Resize(size_t groups) override { groups_ = std::max(groups_, groups); }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const T* v = Values<T>(*input);
    const uint8_t* valid = input->valid.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) set_.insert({g[i], KeyBits(v[row])});
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<CountDistinctState&>(other);
    for (const auto& [j, bits] : o.set_) set_.insert({map[j], bits});
    o.set_.clear();
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    out->valid.assign(groups_, 1);
    out->i64.assign(groups_, 0);
    for (const auto& e : set_) ++out->i64[e.first];
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return set_.capacity() * (sizeof(std::pair<uint32_t, int64_t>) + 1); }

 private:
  size_t groups_ = 0;
  absl::flat_hash_set<std::pair<uint32_t, int64_t>> set_;
};

class CountDistinctStringState : public AggregateState {
 public:
  void Resize(size_t groups) override { groups_ = std::max(groups_, groups); }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const uint8_t* valid = input->valid.data();
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) Insert(g[i], input->str(row));
    });
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<CountDistinctStringState&>(other);
    for (const auto& [j, s] : o.set_) Insert(map[j], s);
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    out->valid.assign(groups_, 1);
    out->i64.assign(groups_, 0);
    for (const auto& e : set_) ++out->i64[e.first];
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return set_.capacity() * 25 + arena_bytes_; }

 private:
  void Insert(uint32_t g, std::string_view s) {
    if (set_.contains({g, s})) return;
    arena_.emplace_back(s);
    arena_bytes_ += sizeof(std::string) + (s.size() > 15 ? s.size() : 0);
    set_.insert({g, std::string_view(arena_.back())});
  }
  size_t groups_ = 0;
  std::deque<std::string> arena_;     // stable storage for the views in set_
  size_t arena_bytes_ = 0;
  absl::flat_hash_set<std::pair<uint32_t, std::string_view>> set_;
};

// Exact quantiles: every non-null value per group, selected at Finalize.
template <typename T, bool kCont>
class QuantileState : public AggregateState {
  using V = std::conditional_t<std::is_same_v<T, double>, double, int64_t>;

 public:
  explicit QuantileState(double q) : q_(q) {}
  void Resize(size_t groups) override { vals_.resize(groups); }
  absl::Status Update(const Column* input, const Selection& sel, const uint32_t* g) override {
    const T* v = Values<T>(*input);
    const uint8_t* valid = input->valid.data();
    size_t added = 0;
    ForEachSelected(sel, [&](size_t i, uint32_t row) {
      if (valid[row]) {
        vals_[g[i]].push_back(static_cast<V>(v[row]));
        ++added;
      }
    });
    count_ += added;
    return absl::OkStatus();
  }
  absl::Status Combine(AggregateState& other, const uint32_t* map) override {
    auto& o = static_cast<QuantileState&>(other);
    for (size_t j = 0; j < o.vals_.size(); ++j) {
      auto& dst = vals_[map[j]];
      if (dst.empty()) dst = std::move(o.vals_[j]);
      else dst.insert(dst.end(), o.vals_[j].begin(), o.vals_[j].end());
    }
    count_ += o.count_;
    o.vals_.clear();
    return absl::OkStatus();
  }
  absl::Status Finalize(Column* out) override {
    auto less = [](V a, V b) { return Less<V>(a, b); };
    for (auto& v : vals_) {
      const size_t n = v.size();
      if (n == 0) {
        AppendNull(out);
        continue;
      }
      if constexpr (kCont) {
        const double rn = static_cast<double>(n - 1) * q_;
        const size_t lo = static_cast<size_t>(std::floor(rn));
        const size_t hi = static_cast<size_t>(std::ceil(rn));
        std::nth_element(v.begin(), v.begin() + lo, v.end(), less);
        double a = static_cast<double>(v[lo]);
        if (hi == lo) {
          PutDouble(out, a);
        } else {
          double b = static_cast<double>(*std::min_element(v.begin() + lo + 1, v.end(), less));
          PutDouble(out, a + (b - a) * (rn - static_cast<double>(lo)));
        }
      } else {
        const double scaled = static_cast<double>(n) * q_;
        const size_t floored = static_cast<size_t>(std::floor(static_cast<double>(n) - scaled));
        const size_t idx = std::max<size_t>(1, n - std::min(floored, n)) - 1;
        std::nth_element(v.begin(), v.begin() + idx, v.end(), less);
        Put(out, v[idx]);
      }
      std::vector<V>().swap(v);
    }
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override {
    return vals_.capacity() * sizeof(std::vector<V>) + count_ * sizeof(V);
  }

 private:
  const double q_;
  size_t count_ = 0;
  std::vector<std::vector<V>> vals_;
};

// Instantiates S<T> for the storage type of `t`.
template <template <typename> class S, typename... A>
std::unique_ptr<AggregateState> ByStorage(Type t, A... args) {
  switch (t) {
    case Type::kBool: return std::make_unique<S<uint8_t>>(args...);
    case Type::kInt32: case Type::kDate: return std::make_unique<S<int32_t>>(args...);
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal:
      return std::make_unique<S<int64_t>>(args...);
    case Type::kDouble: return std::make_unique<S<double>>(args...);
    case Type::kString: break;
  }
  return nullptr;
}

template <typename T> using MinState = MinMaxState<T, false>;
template <typename T> using MaxState = MinMaxState<T, true>;
template <typename T> using QuantileDiscState = QuantileState<T, false>;
template <typename T> using QuantileContState = QuantileState<T, true>;

}  // namespace

void AppendNull(Column* c) {
  c->valid.push_back(0);
  switch (c->type) {
    case Type::kBool: c->u8.push_back(0); break;
    case Type::kInt32: case Type::kDate: c->i32.push_back(0); break;
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: c->i64.push_back(0); break;
    case Type::kDouble: c->f64.push_back(0); break;
    case Type::kString: c->offsets.push_back(static_cast<uint32_t>(c->bytes.size())); break;
  }
}

std::unique_ptr<AggregateState> MakeCountStar(Type, int, double) {
  return std::make_unique<CountStarState>(true);
}
std::unique_ptr<AggregateState> MakeCount(Type, int, double) {
  return std::make_unique<CountStarState>(false);
}
std::unique_ptr<AggregateState> MakeSum(Type t, int, double) {
  if (t == Type::kDouble) return std::make_unique<SumDoubleState>();
  if (t == Type::kInt32) return std::make_unique<SumIntState<int32_t>>();
  return std::make_unique<SumIntState<int64_t>>();
}
std::unique_ptr<AggregateState> MakeMin(Type t, int, double) {
  if (t == Type::kString) return std::make_unique<MinMaxStringState<false>>();
  return ByStorage<MinState>(t);
}
std::unique_ptr<AggregateState> MakeMax(Type t, int, double) {
  if (t == Type::kString) return std::make_unique<MinMaxStringState<true>>();
  return ByStorage<MaxState>(t);
}
std::unique_ptr<AggregateState> MakeAvg(Type t, int scale, double) {
  double divisor = 1;
  for (int i = 0; i < scale; ++i) divisor *= 10;
  return ByStorage<AvgState>(t, divisor);
}
std::unique_ptr<AggregateState> MakeCountDistinct(Type t, int, double) {
  if (t == Type::kString) return std::make_unique<CountDistinctStringState>();
  return ByStorage<CountDistinctState>(t);
}
std::unique_ptr<AggregateState> MakeQuantileDisc(Type t, int, double q) {
  return ByStorage<QuantileDiscState>(t, q);
}
std::unique_ptr<AggregateState> MakeQuantileCont(Type t, int, double q) {
  return ByStorage<QuantileContState>(t, q);
}

}  // namespace de::engine::agg
