// `de-worker __guard PARENT_PID -- PROGRAM ARGS...`: runs PROGRAM as a child and mirrors its exit,
// but kills the whole process group if the worker (PARENT_PID) dies first. Task processes are
// session leaders (so timeouts can kill their group), which also means a kill -9 of the worker
// would otherwise leave them running: a task could then run twice at once after its retry.
#pragma once
namespace de::worker {
int GuardMain(int argc, char** argv);
}  // namespace de::worker
