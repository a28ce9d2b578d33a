// Hash group-by: batches (with a selection) -> one row per group: the group keys, then the
// metrics in declared order.
//
//   batch --bucket keys--> key columns --hash (vectorised)--> hashes --probe--> group ids
//         --AggregateState::Update per metric--> per-group states
//
// Keys are typed columns (bool, ints, date, timestamp, double, string) or time buckets of a date
// or timestamp column; a null key is a group of its own (SQL). The hash table is open addressing
// with linear probing over 8-byte slots (32 bits of hash tag + group id), kept at most half full;
// the group keys are stored column-wise (they become the output's key columns as they are).
// Without group keys there is exactly one group, even over no rows (SQL's global aggregate).
//
// A key that arrives as a dictionary-form string column (Parquet dictionary pages, see column.h)
// is grouped on its codes: each distinct code of a dictionary is hashed and probed once (a code
// -> group map per dictionary, i.e. per row group), and every row is then one array lookup. Group
// keys are stored as plain strings, so groups from row groups with different dictionaries (and
// other threads' tables) meet as usual. Other uses of a dictionary-form column (several keys,
// metric inputs) materialise it first.
//
// Threads: every thread fills its own HashAggregate (no locks); Merge() then combines the partial
// tables into one (group by group, combining the metric states).
//
// Memory is bounded by the number of groups (plus, for count_distinct and quantiles, by their
// distinct pairs / values): a table refuses to grow past `max_groups` groups or
// `max_memory_bytes` with a ResourceExhausted error naming the limit, rather than running the
// machine out of memory.
//
// Thread safety: an AggregatePlan is immutable and shared; a HashAggregate belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"
#include "engine/ops/aggregate_function.h"
#include "engine/ops/time_bucket.h"

namespace de::engine {

struct GroupKeySpec {
  std::string column;                       // input column
  TimeBucket bucket = TimeBucket::kNone;
  std::string name;                         // output column ("" = column)
};

struct MetricSpec {
  std::string name;                         // output column
  AggregateCall call;
};

struct AggregateLimits {
  int64_t max_groups = 10'000'000;
  int64_t max_memory_bytes = 2ll << 30;     // per table
};

struct AggregatePlan {
  Schema input_schema;
  std::vector<int> key_inputs;              // input column of each key
  std::vector<TimeBucket> key_buckets;
  std::vector<BoundAggregate> metrics;
  Schema output_schema;                     // keys, then metrics
  AggregateLimits limits;
};

// Binds keys and metrics against `input`. Errors name the key or metric: unknown columns (with
// "did you mean"), a bucket of a non-time column, duplicate output names.
absl::StatusOr<std::shared_ptr<const AggregatePlan>> PlanAggregate(
    const Schema& input, const std::vector<GroupKeySpec>& keys,
    const std::vector<MetricSpec>& metrics, AggregateLimits limits = {});

class HashAggregate {
 public:
  explicit HashAggregate(std::shared_ptr<const AggregatePlan> plan);
  ~HashAggregate();
  HashAggregate(const HashAggregate&) = delete;
  HashAggregate& operator=(const HashAggregate&) = delete;

  // Adds the selected rows of `batch` (columns as plan.input_schema).
  absl::Status Consume(const Batch& batch, const Selection& sel);
  // Adds every group of `other` (built from the same plan) into this; `other` is left empty.
  absl::Status Merge(HashAggregate& other);
  // The result: one row per group, in the order the groups were first seen. Ends the table.
  absl::StatusOr<Batch> Finish();

  size_t num_groups() const { return group_hash_.size(); }
  size_t MemoryBytes() const;

 private:
  absl::Status Probe(const std::vector<const Column*>& keys, size_t n, const uint32_t* rows,
                     const uint64_t* hashes, uint32_t* gids);
  template <typename Eq>
  absl::Status ProbeWith(const std::vector<const Column*>& keys, size_t n, const uint32_t* rows,
                         const uint64_t* hashes, uint32_t* gids, Eq eq);
  absl::Status AddGroup(const std::vector<const Column*>& keys, uint32_t row, uint64_t hash,
                        uint32_t* gid);
  // One dictionary-form string key: group ids through a per-dictionary code -> group map.
  absl::Status ConsumeDictKey(const Column& in, size_t n, const uint32_t* rows);
  absl::Status ResolveCode(const Column& dict, uint32_t code, uint32_t* gid);
  absl::Status UpdateMetrics(const Batch& batch, const Selection& sel);
  // Column `column` of `batch`, materialised into plain_ when it is in dictionary form.
  absl::StatusOr<const Column*> Plain(const Batch& batch, int column);
  void Grow();
  absl::Status CheckMemory();

  std::shared_ptr<const AggregatePlan> plan_;
  std::vector<Column> keys_;                // one per key; row g = group g's key
  std::vector<uint64_t> group_hash_;        // per group
  std::vector<uint64_t> table_;             // 0 = empty; else (hash >> 32) << 32 | (gid + 1)
  size_t mask_ = 0;
  std::vector<std::unique_ptr<AggregateState>> states_;
  int64_t batches_ = 0;
  // Scratch, reused between batches.
  std::vector<Column> bucketed_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> gids_;
  std::vector<uint32_t> identity_;         // 0, 1, 2, ... (rows of an all-rows selection)
  std::vector<Column> plain_;               // dictionary-form inputs materialised (fallbacks)
  std::vector<uint8_t> plain_ready_;        // per column: plain_ holds this batch's strings
  // The dictionary whose codes code_gid_ maps (held so that its address is not reused), the
  // group of each code (kNoGroup until seen), and the null key's group.
  std::shared_ptr<const Column> dict_;
  std::vector<uint32_t> code_gid_;
  uint32_t null_gid_ = 0;
};

}  // namespace de::engine
