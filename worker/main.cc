#include <string>

#include "worker/daemon.h"
#if __has_include("worker/task_cli.h")
#include "worker/task_cli.h"
#define DE_HAVE_TASK_CLI 1
#endif

int main(int argc, char** argv) {
#ifdef DE_HAVE_TASK_CLI
  if (argc > 1 && std::string(argv[1]) == "task") return de::worker::RunTaskCommand(argc, argv);
#endif
  return de::worker::DaemonMain(argc, argv);
}
