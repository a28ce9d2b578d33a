#include "engine/ops/sort_rows.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ops/aggregate_function.h"

namespace de::engine {

namespace {

template <typename T>
int Cmp(T a, T b) {
  if constexpr (std::is_same_v<T, double>) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Compares rows a and b of `c`; nulls last regardless of direction.
int CompareRows(const Column& c, uint32_t a, uint32_t b, bool desc) {
  const bool va = c.valid[a], vb = c.valid[b];
  if (!va || !vb) return va == vb ? 0 : (va ? -1 : 1);
  int r = 0;
  switch (c.type) {
    case Type::kBool: r = Cmp(c.u8[a], c.u8[b]); break;
    case Type::kInt32: case Type::kDate: r = Cmp(c.i32[a], c.i32[b]); break;
    case Type::kInt64: case Type::kTimestamp: case Type::kDecimal: r = Cmp(c.i64[a], c.i64[b]); break;
    case Type::kDouble: r = Cmp(c.f64[a], c.f64[b]); break;
    case Type::kString: {
      int x = c.str(a).compare(c.str(b));
      r = x < 0 ? -1 : (x > 0 ? 1 : 0);
      break;
    }
  }
  return desc ? -r : r;
}

struct Less {
  const Batch* batch;
  const std::vector<SortKey>* keys;
  bool operator()(uint32_t a, uint32_t b) const {
    for (const SortKey& k : *keys) {
      int r = CompareRows(batch->columns[k.column], a, b, k.descending);
      if (r != 0) return r < 0;
    }
    return a < b;  // stable
  }
};

}  // namespace

absl::StatusOr<SortKey> ParseSortKey(std::string_view text, const Schema& schema) {
  std::string t(text);
  t = std::string(absl::StripAsciiWhitespace(t));
  SortKey key;
  std::string name = t;
  size_t sp = t.find_last_of(" \t");
  if (sp != std::string::npos) {
    std::string dir = absl::AsciiStrToLower(t.substr(sp + 1));
    if (dir == "desc" || dir == "asc") {
      key.descending = dir == "desc";
      name = std::string(absl::StripAsciiWhitespace(t.substr(0, sp)));
    }
  }
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < schema.size(); ++i) {
    names.push_back(schema[i].name);
    if (schema[i].name == name) {
      key.column = static_cast<int>(i);
      return key;
    }
  }
  std::string near = ClosestName(name, names);
  return absl::InvalidArgumentError(absl::StrCat(
      "order_by: '", t, "': no output column '", name, "'",
      near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"),
      "; output columns: ", absl::StrJoin(names, ", "), " (write `col` or `col desc`)"));
}

void SortRows(const Batch& batch, const std::vector<SortKey>& keys, std::vector<uint32_t>* rows) {
  std::sort(rows->begin(), rows->end(), Less{&batch, &keys});
}

void TopRows(const Batch& batch, const std::vector<SortKey>& keys, size_t n,
             std::vector<uint32_t>* rows) {
  if (n >= rows->size()) {
    SortRows(batch, keys, rows);
    return;
  }
  std::partial_sort(rows->begin(), rows->begin() + n, rows->end(), Less{&batch, &keys});
  rows->resize(n);
}

}  // namespace de::engine
