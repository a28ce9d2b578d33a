#include "engine/ops/hash_aggregate.h"

#include <cstring>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace de::engine {

namespace {

constexpr uint64_t kNullHash = 0x5bd1e9955bd1e995ull;

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// The first n <= 8 bytes at p as a little-endian word (the rest zero); reads 8 bytes at once when
// `avail` (bytes readable from p) allows.
inline uint64_t LoadShort(const char* p, size_t n, size_t avail) {
  uint64_t w = 0;
  if (avail >= 8) {
    std::memcpy(&w, p, 8);
    return n == 8 ? w : (w & ((uint64_t{1} << (8 * n)) - 1));
  }
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return w;
}

inline uint64_t HashBytes(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xc6a4a7935bd1e995ull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ Mix(w)) * 0x9e3779b97f4a7c15ull;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return Mix(h ^ w);
}

inline uint64_t HashBytes(const char* p, size_t n, size_t avail) {
  if (n <= 8) return Mix(LoadShort(p, n, avail) ^ (n * 0xc6a4a7935bd1e995ull));
  return HashBytes(p, n);
}

inline uint64_t DoubleBits(double v) {
  if (v == 0) v = 0;
  if (v != v) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

// Hashes key column `c` at rows[i] into h[i] (first key: sets; later keys: combines).
template <typename ValueHash>
void HashLoop(const Column& c, size_t n, const uint32_t* rows, bool first, uint64_t* h,
              ValueHash vh) {
  const uint8_t* valid = c.valid.data();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = rows[i];
    const uint64_t v = valid[r] ? vh(r) : kNullHash;
    h[i] = first ? v : Mix(h[i] ^ (v + 0x9e3779b97f4a7c15ull + (h[i] << 6) + (h[i] >> 2)));
  }
}

void HashKey(const Column& c, size_t n, const uint32_t* rows, bool first, uint64_t* h) {
  switch (c.type) {
    case Type::kBool:
      HashLoop(c, n, rows, first, h, [&](uint32_t r) { return Mix(c.u8[r] + 1); });
      break;
    case Type::kInt32: case Type::kDate: {
      const int32_t* v = c.i32.data();
      HashLoop(c, n, rows, first, h, [&](uint32_t r) { return Mix(static_cast<uint64_t>(v[r])); });
      break;
    }
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: {
      const int64_t* v = c.i64.data();
      HashLoop(c, n, rows, first, h, [&](uint32_t r) { return Mix(static_cast<uint64_t>(v[r])); });
      break;
    }
    case Type::kDouble: {
      const double* v = c.f64.data();
      HashLoop(c, n, rows, first, h, [&](uint32_t r) { return Mix(DoubleBits(v[r])); });
      break;
    }
    case Type::kString: {
      const uint32_t* off = c.offsets.data();
      const char* bytes = c.bytes.data();
      const size_t size = c.bytes.size();
      HashLoop(c, n, rows, first, h, [&](uint32_t r) {
        return HashBytes(bytes + off[r], off[r + 1] - off[r], size - off[r]);
      });
      break;
    }
  }
}

// Row `a` of stored keys equals row `b` of input keys (same type; nulls equal).
inline bool KeyEquals(const Column& s, uint32_t a, const Column& in, uint32_t b) {
  const uint8_t va = s.valid[a];
  if (va != in.valid[b]) return false;
  if (!va) return true;
  switch (s.type) {
    case Type::kBool: return s.u8[a] == in.u8[b];
    case Type::kInt32: case Type::kDate: return s.i32[a] == in.i32[b];
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: return s.i64[a] == in.i64[b];
    case Type::kDouble: return DoubleBits(s.f64[a]) == DoubleBits(in.f64[b]);
    case Type::kString: return s.str(a) == in.str(b);
  }
  return false;
}

void AppendFrom(Column* dst, const Column& src, uint32_t r) {
  dst->valid.push_back(src.valid[r]);
  switch (src.type) {
    case Type::kBool: dst->u8.push_back(src.u8[r]); break;
    case Type::kInt32: case Type::kDate: dst->i32.push_back(src.i32[r]); break;
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: dst->i64.push_back(src.i64[r]); break;
    case Type::kDouble: dst->f64.push_back(src.f64[r]); break;
    case Type::kString: {
      std::string_view s = src.str(r);
      dst->bytes.append(s.data(), s.size());
      dst->offsets.push_back(static_cast<uint32_t>(dst->bytes.size()));
      break;
    }
  }
}

size_t ColumnBytes(const Column& c) {
  return c.valid.capacity() + c.u8.capacity() + c.i32.capacity() * 4 + c.i64.capacity() * 8 +
         c.f64.capacity() * 8 + c.offsets.capacity() * 4 + c.bytes.capacity();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const AggregatePlan>> PlanAggregate(
    const Schema& input, const std::vector<GroupKeySpec>& keys,
    const std::vector<MetricSpec>& metrics, AggregateLimits limits) {
  auto plan = std::make_shared<AggregatePlan>();
  plan->input_schema = input;
  plan->limits = limits;
  std::vector<std::string> names;
  for (const auto& f : input) names.push_back(f.name);
  std::set<std::string> out_names;
  auto add_output = [&](const std::string& what, const std::string& name, Type t, int precision,
                        int scale) -> absl::Status {
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": an empty name"));
    if (!out_names.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the output column '", name, "' is named twice"));
    }
    plan->output_schema.push_back(Field{name, t, true, precision, scale});
    return absl::OkStatus();
  };
  for (const auto& k : keys) {
    int idx = -1;
    for (size_t i = 0; i < input.size(); ++i) {
      if (input[i].name == k.column) idx = static_cast<int>(i);
    }
    if (idx < 0) {
      std::string near = ClosestName(k.column, names);
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by: no column '", k.column, "'",
          near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"),
          "; columns: ", absl::StrJoin(names, ", ")));
    }
    Type t = input[idx].type;
    std::string name = k.name.empty() ? k.column : k.name;
    if (k.bucket != TimeBucket::kNone) {
      auto bt = TimeBucketType(k.bucket, t);
      if (!bt.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("group_by: '", k.column, "': ", bt.status().message()));
      }
      t = *bt;
      if (k.name.empty()) name = absl::StrCat(k.column, "_", TimeBucketName(k.bucket));
    }
    plan->key_inputs.push_back(idx);
    plan->key_buckets.push_back(k.bucket);
    DE_RETURN_IF_ERROR(add_output("group_by", name, t, input[idx].precision, input[idx].scale));
  }
  for (const auto& m : metrics) {
    DE_ASSIGN_OR_RETURN(BoundAggregate b, BindAggregate(m.name, m.call, input));
    DE_RETURN_IF_ERROR(add_output("metrics", m.name, b.result_type, b.result_precision, b.result_scale));
    plan->metrics.push_back(std::move(b));
  }
  if (plan->output_schema.empty()) {
    return absl::InvalidArgumentError("aggregate: no group_by keys and no metrics");
  }
  return std::shared_ptr<const AggregatePlan>(std::move(plan));
}

HashAggregate::HashAggregate(std::shared_ptr<const AggregatePlan> plan) : plan_(std::move(plan)) {
  const size_t nk = plan_->key_inputs.size();
  keys_.resize(nk);
  bucketed_.resize(nk);
  for (size_t k = 0; k < nk; ++k) {
    keys_[k].type = plan_->output_schema[k].type;
    keys_[k].scale = plan_->output_schema[k].scale;
  }
  for (const auto& m : plan_->metrics) states_.push_back(m.NewState());
  table_.assign(1024, 0);
  mask_ = table_.size() - 1;
  if (nk == 0) {  // the one global group
    group_hash_.push_back(0);
    for (auto& s : states_) s->Resize(1);
  }
}

HashAggregate::~HashAggregate() = default;

void HashAggregate::Grow() {
  std::vector<uint64_t> t(table_.size() * 2, 0);
  const size_t mask = t.size() - 1;
  for (size_t g = 0; g < group_hash_.size(); ++g) {
    const uint64_t h = group_hash_[g];
    size_t pos = h & mask;
    while (t[pos] != 0) pos = (pos + 1) & mask;
    t[pos] = ((h >> 32) << 32) | (g + 1);
  }
  table_.swap(t);
  mask_ = mask;
}

absl::Status HashAggregate::AddGroup(const std::vector<const Column*>& keys, uint32_t row,
                                     uint64_t hash, uint32_t* gid) {
  const size_t g = group_hash_.size();
  if (static_cast<int64_t>(g) >= plan_->limits.max_groups) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "aggregate: more than max_groups=", plan_->limits.max_groups,
        " groups; group by fewer or coarser keys, or raise max_groups (memory grows with the "
        "number of groups)"));
  }
  for (size_t k = 0; k < keys.size(); ++k) AppendFrom(&keys_[k], *keys[k], row);
  group_hash_.push_back(hash);
  *gid = static_cast<uint32_t>(g);
  return absl::OkStatus();
}

template <typename Eq>
absl::Status HashAggregate::ProbeWith(const std::vector<const Column*>& keys, size_t n,
                                      const uint32_t* rows, const uint64_t* hashes,
                                      uint32_t* gids, Eq eq) {
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = hashes[i];
    const uint64_t tag = h >> 32;
    const uint32_t r = rows[i];
    size_t pos = h & mask_;
    while (true) {
      const uint64_t e = table_[pos];
      if (e == 0) {
        uint32_t g;
        DE_RETURN_IF_ERROR(AddGroup(keys, r, h, &g));
        table_[pos] = (tag << 32) | (g + 1);
        gids[i] = g;
        if (group_hash_.size() * 2 > table_.size()) Grow();
        break;
      }
      if ((e >> 32) == tag) {
        const uint32_t g = static_cast<uint32_t>(e) - 1;
        if (eq(g, r)) {
          gids[i] = g;
          break;
        }
      }
      pos = (pos + 1) & mask_;
    }
  }
  return absl::OkStatus();
}

absl::Status HashAggregate::Probe(const std::vector<const Column*>& keys, size_t n,
                                  const uint32_t* rows, const uint64_t* hashes, uint32_t* gids) {
  if (keys.size() == 1 && keys[0]->type == Type::kString) {
    // One string key (the common case): compare lengths, then bytes, without the type switch.
    const Column& in = *keys[0];
    const Column& st = keys_[0];
    return ProbeWith(keys, n, rows, hashes, gids, [&](uint32_t g, uint32_t r) {
      const uint8_t v = st.valid[g];
      if (v != in.valid[r]) return false;
      const uint32_t a = st.offsets[g], al = st.offsets[g + 1] - a;
      const uint32_t b = in.offsets[r], bl = in.offsets[r + 1] - b;
      if (al != bl) return false;
      if (!v) return true;
      if (al <= 8) {
        return LoadShort(st.bytes.data() + a, al, st.bytes.size() - a) ==
               LoadShort(in.bytes.data() + b, bl, in.bytes.size() - b);
      }
      return std::memcmp(st.bytes.data() + a, in.bytes.data() + b, al) == 0;
    });
  }
  if (keys.size() == 1 && (keys[0]->type == Type::kInt64 || keys[0]->type == Type::kTimestamp)) {
    const Column& in = *keys[0];
    const Column& st = keys_[0];
    return ProbeWith(keys, n, rows, hashes, gids, [&](uint32_t g, uint32_t r) {
      const uint8_t v = st.valid[g];
      return v == in.valid[r] && (!v || st.i64[g] == in.i64[r]);
    });
  }
  const size_t nk = keys.size();
  return ProbeWith(keys, n, rows, hashes, gids, [&](uint32_t g, uint32_t r) {
    for (size_t k = 0; k < nk; ++k) {
      if (!KeyEquals(keys_[k], g, *keys[k], r)) return false;
    }
    return true;
  });
}

constexpr uint32_t kNoGroup = UINT32_MAX;

// One null string: the key a dictionary column's null rows probe the null group with.
const Column& NullStringKey() {
  static const Column* const kKey = [] {
    auto* c = new Column;
    c->type = Type::kString;
    c->valid = {0};
    c->offsets = {0, 0};
    return c;
  }();
  return *kKey;
}

absl::Status HashAggregate::ResolveCode(const Column& dict, uint32_t code, uint32_t* gid) {
  uint64_t h;
  HashKey(dict, 1, &code, true, &h);
  std::vector<const Column*> keys = {&dict};
  return Probe(keys, 1, &code, &h, gid);
}

absl::Status HashAggregate::ConsumeDictKey(const Column& in, size_t n, const uint32_t* rows) {
  if (dict_ != in.dictionary) {
    dict_ = in.dictionary;
    code_gid_.assign(dict_->size(), kNoGroup);
    null_gid_ = kNoGroup;
  }
  const uint8_t* valid = in.valid.data();
  const uint32_t* codes = in.codes.data();
  uint32_t* map = code_gid_.data();
  uint32_t* gids = gids_.data();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = rows[i];
    if (valid[r]) {
      const uint32_t c = codes[r];
      if (map[c] == kNoGroup) DE_RETURN_IF_ERROR(ResolveCode(*dict_, c, &map[c]));
      gids[i] = map[c];
    } else {
      if (null_gid_ == kNoGroup) DE_RETURN_IF_ERROR(ResolveCode(NullStringKey(), 0, &null_gid_));
      gids[i] = null_gid_;
    }
  }
  return absl::OkStatus();
}

absl::Status HashAggregate::Consume(const Batch& batch, const Selection& sel) {
  const size_t n = sel.size();
  if (n == 0) return absl::OkStatus();
  const size_t nk = plan_->key_inputs.size();
  plain_.resize(batch.columns.size());
  plain_ready_.assign(batch.columns.size(), 0);
  if (nk == 0) {
    gids_.assign(n, 0);
  } else {
    const uint32_t* rows;
    if (sel.all()) {  // identity rows: a prefix of a vector kept between batches
      if (identity_.size() < n) {
        const size_t old = identity_.size();
        identity_.resize(n);
        std::iota(identity_.begin() + old, identity_.end(), static_cast<uint32_t>(old));
      }
      rows = identity_.data();
    } else {
      rows = const_cast<Selection&>(sel).Indices().data();  // no change when !all()
    }
    const Column& first = batch.columns[plan_->key_inputs[0]];
    if (nk == 1 && first.is_dictionary()) {
      gids_.resize(n);
      DE_RETURN_IF_ERROR(ConsumeDictKey(first, n, rows));
      return UpdateMetrics(batch, sel);
    }
    std::vector<const Column*> keys(nk);
    for (size_t k = 0; k < nk; ++k) {
      const Column& in = batch.columns[plan_->key_inputs[k]];
      if (in.is_dictionary()) {
        DE_ASSIGN_OR_RETURN(keys[k], Plain(batch, plan_->key_inputs[k]));
      } else if (plan_->key_buckets[k] == TimeBucket::kNone) {
        keys[k] = &in;
      } else {
        ApplyTimeBucket(in, sel, plan_->key_buckets[k], &bucketed_[k]);
        keys[k] = &bucketed_[k];
      }
    }
    hashes_.resize(n);
    for (size_t k = 0; k < nk; ++k) HashKey(*keys[k], n, rows, k == 0, hashes_.data());
    gids_.resize(n);
    DE_RETURN_IF_ERROR(Probe(keys, n, rows, hashes_.data(), gids_.data()));
  }
  return UpdateMetrics(batch, sel);
}

absl::StatusOr<const Column*> HashAggregate::Plain(const Batch& batch, int column) {
  const Column& in = batch.columns[column];
  if (!in.is_dictionary()) return &in;
  Column& p = plain_[column];
  if (!plain_ready_[column]) {  // once per batch, however many keys and metrics read it
    DE_RETURN_IF_ERROR(MaterializeDictionary(in, &p));
    plain_ready_[column] = 1;
  }
  return &p;
}

absl::Status HashAggregate::UpdateMetrics(const Batch& batch, const Selection& sel) {
  for (size_t m = 0; m < states_.size(); ++m) {
    const BoundAggregate& b = plan_->metrics[m];
    states_[m]->Resize(group_hash_.size());
    const Column* input = nullptr;
    if (b.input >= 0) {
      DE_ASSIGN_OR_RETURN(input, Plain(batch, b.input));
    }
    absl::Status st = states_[m]->Update(input, sel, gids_.data());
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat("metric '", b.name, "' (", b.label, "): ",
                                                  st.message()));
    }
  }
  if (++batches_ % 8 == 0) return CheckMemory();
  return absl::OkStatus();
}

absl::Status HashAggregate::Merge(HashAggregate& other) {
  const size_t g = other.group_hash_.size();
  std::vector<uint32_t> map(g, 0);
  const size_t nk = plan_->key_inputs.size();
  if (nk > 0 && g > 0) {
    std::vector<const Column*> keys(nk);
    for (size_t k = 0; k < nk; ++k) keys[k] = &other.keys_[k];
    std::vector<uint32_t> rows(g);
    std::iota(rows.begin(), rows.end(), 0u);
    DE_RETURN_IF_ERROR(Probe(keys, g, rows.data(), other.group_hash_.data(), map.data()));
  }
  for (size_t m = 0; m < states_.size(); ++m) {
    states_[m]->Resize(group_hash_.size());
    other.states_[m]->Resize(g);
    absl::Status st = states_[m]->Combine(*other.states_[m], map.data());
    if (!st.ok()) {
      const BoundAggregate& b = plan_->metrics[m];
      return absl::Status(st.code(), absl::StrCat("metric '", b.name, "' (", b.label, "): ",
                                                  st.message()));
    }
  }
  other.group_hash_.clear();
  for (auto& k : other.keys_) k.Clear();
  other.dict_.reset();  // its code -> group map points at groups it no longer has
  return CheckMemory();
}

absl::StatusOr<Batch> HashAggregate::Finish() {
  Batch out;
  const size_t groups = group_hash_.size();
  for (auto& k : keys_) out.columns.push_back(std::move(k));
  for (size_t m = 0; m < states_.size(); ++m) {
    Column c;
    c.type = plan_->metrics[m].result_type;
    c.scale = plan_->metrics[m].result_scale;
    states_[m]->Resize(groups);
    DE_RETURN_IF_ERROR(states_[m]->Finalize(&c));
    out.columns.push_back(std::move(c));
  }
  out.num_rows = groups;
  for (size_t k = 0; k < keys_.size(); ++k) {
    keys_[k] = Column{};
    keys_[k].type = plan_->output_schema[k].type;
    keys_[k].scale = plan_->output_schema[k].scale;
  }
  group_hash_.clear();
  dict_.reset();
  return out;
}

size_t HashAggregate::MemoryBytes() const {
  size_t b = table_.capacity() * 8 + group_hash_.capacity() * 8;
  for (const auto& k : keys_) b += ColumnBytes(k);
  for (const auto& s : states_) b += s->MemoryBytes();
  return b;
}

absl::Status HashAggregate::CheckMemory() {
  const size_t bytes = MemoryBytes();
  if (static_cast<int64_t>(bytes) > plan_->limits.max_memory_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "aggregate: the group table needs more than max_memory=", plan_->limits.max_memory_bytes,
        " bytes (", group_hash_.size(), " groups so far); group by fewer or coarser keys, avoid "
        "count_distinct/quantile over many values, or raise max_memory"));
  }
  return absl::OkStatus();
}

}  // namespace de::engine
