// The table of built-in tasks. Each task type is listed explicitly (no static registration, so
// nothing is dropped by the linker).
#include <map>

#include "engine/columnar/heap.h"
#include "worker/tasks/aggregate.h"
#include "worker/tasks/clean.h"
#include "worker/tasks/csv_to_parquet.h"
#include "worker/tasks/for_each_items.h"
#include "worker/tasks/noop.h"
#include "worker/tasks/task.h"

namespace de::tasks {

namespace {

// How a task's process tunes its heap (engine/columnar/heap.h).
enum class Heap {
  kDefault,         // glibc's defaults
  kBatchShared,     // batch heap; every thread allocates from the main (huge-page) heap: for
                    // threads that allocate a few large blocks per morsel (2-thread aggregate:
                    // 55-65 ms CPU vs 82-105 ms with per-thread arenas)
  kBatchPerThread,  // batch heap, glibc's per-thread arenas kept
};

struct BuiltinTask {
  TaskFn run;
  Heap heap;
};

const BuiltinTask* Find(const std::string& type) {
  static const std::map<std::string, BuiltinTask> kTasks = {
      {"aggregate", {RunAggregate, Heap::kBatchShared}},
      {"clean", {RunClean, Heap::kBatchPerThread}},
      {"csv_to_parquet", {RunCsvToParquet, Heap::kDefault}},
      {kForEachItemsType, {RunForEachItems, Heap::kDefault}},
      {"noop", {RunNoop, Heap::kDefault}},
  };
  auto it = kTasks.find(type);
  return it == kTasks.end() ? nullptr : &it->second;
}

}  // namespace

const TaskFn* FindBuiltinTask(const std::string& type) {
  const BuiltinTask* t = Find(type);
  return t == nullptr ? nullptr : &t->run;
}

void PrepareTaskProcess(const std::string& type) {
  const BuiltinTask* t = Find(type);
  if (t == nullptr || t->heap == Heap::kDefault) return;
  engine::PrepareBatchHeap(/*one_arena=*/t->heap == Heap::kBatchShared);
}

}  // namespace de::tasks
