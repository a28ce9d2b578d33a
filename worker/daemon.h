// de-worker's long-running mode: flags, then Agent::Run until SIGTERM (drain) / second signal.
#pragma once
namespace de::worker {
int DaemonMain(int argc, char** argv);
}  // namespace de::worker
