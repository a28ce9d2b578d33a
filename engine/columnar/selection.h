// Selection vectors: which rows of a Batch are still alive. Filters narrow a Selection instead of
// copying rows (DuckDB's SelectionVector); kernels and sinks iterate `sel[i]` for i < sel.size().
// Plain value; not thread-safe (one owner).
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

namespace de::engine {

class Selection {
 public:
  Selection() = default;
  // Every row 0..n-1 (no index vector is materialised).
  static Selection All(size_t n) {
    Selection s;
    s.all_ = true;
    s.n_ = n;
    return s;
  }
  // Exactly these rows, ascending.
  static Selection Of(std::vector<uint32_t> rows) {
    Selection s;
    s.all_ = false;
    s.idx_ = std::move(rows);
    return s;
  }

  bool all() const { return all_; }
  size_t size() const { return all_ ? n_ : idx_.size(); }
  bool empty() const { return size() == 0; }
  uint32_t operator[](size_t i) const { return all_ ? static_cast<uint32_t>(i) : idx_[i]; }

  // The index vector (materialised on first call when all()).
  std::vector<uint32_t>& Indices() {
    if (all_) {
      idx_.resize(n_);
      std::iota(idx_.begin(), idx_.end(), 0u);
      all_ = false;
    }
    return idx_;
  }
  // Keeps the i-th selected row when keep(row) is true (row = the batch row index); keep is
  // called once per selected row, in order. Branch-free: every row is written and the write
  // position advances by keep's result (a filter passing about half the rows would otherwise
  // mispredict every other row).
  template <typename Pred>
  void Retain(Pred keep) {
    if (all_) {
      idx_.resize(n_);
      uint32_t* out = idx_.data();
      size_t w = 0;
      for (uint32_t r = 0; r < n_; ++r) {
        out[w] = r;
        w += keep(r) ? 1 : 0;
      }
      idx_.resize(w);
      all_ = false;
      return;
    }
    uint32_t* d = idx_.data();
    size_t w = 0;
    for (size_t i = 0; i < idx_.size(); ++i) {
      const uint32_t r = d[i];
      d[w] = r;
      w += keep(r) ? 1 : 0;
    }
    idx_.resize(w);
  }

 private:
  bool all_ = true;
  size_t n_ = 0;
  std::vector<uint32_t> idx_;
};

}  // namespace de::engine
