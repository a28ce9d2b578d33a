// de-worker: the daemon (default), one built-in task in the foreground (`task`), or the guard
// that runs each task process (`__guard`, internal).
#include <string>

#include "worker/daemon.h"
#include "worker/guard.h"
#include "worker/task_cli.h"
#include "worker/tasks/task.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "__guard") return de::worker::GuardMain(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "task") {
    if (argc > 2) de::tasks::PrepareTaskProcess(argv[2]);  // this process runs only that task
    return de::worker::RunTaskCommand(argc, argv);
  }
  return de::worker::DaemonMain(argc, argv);
}
