// dectl: the operator's command-line tool for de-scheduler. See cli/cli.h.
// `dectl dag test` runs a worker in-process, which runs each built-in task in a child of this
// program as de-worker does (`PROGRAM __guard PID -- PROGRAM task TYPE ...`): those two internal
// forms are answered here exactly as de-worker's main does.
#include <string>

#include "cli/cli.h"
#include "worker/guard.h"
#include "worker/task_cli.h"
#include "worker/tasks/task.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "__guard") return de::worker::GuardMain(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "task") {
    if (argc > 2) de::tasks::PrepareTaskProcess(argv[2]);
    return de::worker::RunTaskCommand(argc, argv);
  }
  return de::cli::Main(argc, argv);
}
