// The state factories behind the aggregate function table (aggregate_function.cc). Internal to
// engine/ops; each returns a state for an input type the function's result_type accepted.
#pragma once

#include <memory>

#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"
#include "engine/ops/aggregate_function.h"

namespace de::engine::agg {

// `scale`: the input's decimal scale (kDecimal inputs; 0 otherwise).
std::unique_ptr<AggregateState> MakeCountStar(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeCount(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeSum(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeMin(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeMax(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeAvg(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeCountDistinct(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeQuantileDisc(Type input, int scale, double q);
std::unique_ptr<AggregateState> MakeQuantileCont(Type input, int scale, double q);

// Calls f(i, row) for every selected row (i = position in the selection).
template <typename F>
inline void ForEachSelected(const Selection& sel, F&& f) {
  const size_t n = sel.size();
  if (sel.all()) {
    for (size_t i = 0; i < n; ++i) f(i, static_cast<uint32_t>(i));
  } else {
    const uint32_t* idx = const_cast<Selection&>(sel).Indices().data();  // no change when !all()
    for (size_t i = 0; i < n; ++i) f(i, idx[i]);
  }
}

// Appends a null / a value to a typed output column.
void AppendNull(Column* c);

}  // namespace de::engine::agg
