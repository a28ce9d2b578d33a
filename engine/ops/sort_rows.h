// Ordering the rows of a batch (aggregate's order_by, and the default key order of its result):
// a stable sort of row indices by several columns, each ascending or descending, nulls last (as
// DuckDB's default), strings by bytes, NaN above every number. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"

namespace de::engine {

struct SortKey {
  int column = 0;
  bool descending = false;
};

// Parses "col" / "col desc" / "col asc" / "\"odd name\" desc" against `schema` (errors name the
// entry and suggest a close column name).
absl::StatusOr<SortKey> ParseSortKey(std::string_view text, const Schema& schema);

// Sorts `rows` (indices into `batch`) by `keys`, stably.
void SortRows(const Batch& batch, const std::vector<SortKey>& keys, std::vector<uint32_t>* rows);

// Keeps the first `n` entries of `rows` in the order of a full SortRows, in O(rows log n).
void TopRows(const Batch& batch, const std::vector<SortKey>& keys, size_t n,
             std::vector<uint32_t>* rows);

}  // namespace de::engine
