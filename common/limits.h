// Limits on what a peer may send, shared by the scheduler, the worker and dectl.
#pragma once

namespace de {

// The largest gRPC message the scheduler accepts from a client or worker, and the largest a
// client or worker accepts from the scheduler; beyond it a call fails with RESOURCE_EXHAUSTED.
// A DAG file is at most 4 MiB (common/dag/yaml_limits.h), a log page at most 8 MiB.
inline constexpr int kMaxGrpcMessageBytes = 16 << 20;

// The largest page GetTaskLog returns, whatever the request's max_bytes.
inline constexpr int kMaxLogPageBytes = 8 << 20;

// The most rows one list call (runs, audit) returns; a larger `limit` is an error.
inline constexpr int kMaxListRows = 10'000;

// The scheduler's gRPC server threads (its resource quota). A worker session holds one for its
// whole life, so this also bounds the workers of one scheduler (about 1,000).
inline constexpr int kMaxGrpcThreads = 1024;

// The most task instances one `for_each:` task expands to in a run; more is an error (at submit
// for a list literal, at run time for a param, glob or partitions).
inline constexpr int kMaxMapItems = 10'000;

}  // namespace de
