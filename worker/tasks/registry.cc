// The table of built-in tasks. Each task type is listed explicitly (no static registration, so
// nothing is dropped by the linker).
#include "worker/tasks/task.h"

#include <map>

#include "worker/tasks/aggregate.h"
#include "worker/tasks/clean.h"
#include "worker/tasks/csv_to_parquet.h"
#include "worker/tasks/noop.h"

namespace de::tasks {

const TaskFn* FindBuiltinTask(const std::string& type) {
  static const std::map<std::string, TaskFn> kTasks = {
      {"aggregate", RunAggregate},
      {"clean", RunClean},
      {"csv_to_parquet", RunCsvToParquet},
      {"noop", RunNoop},
  };
  auto it = kTasks.find(type);
  return it == kTasks.end() ? nullptr : &it->second;
}

}  // namespace de::tasks
