// de-scheduler's process: flags, store, gRPC server, signal handling. main.cc only calls Main.
#pragma once
namespace de::server {
int Main(int argc, char** argv);
}  // namespace de::server
