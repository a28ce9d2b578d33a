// An InputStream that decodes its inner stream on a thread of its own, `buffers` buffers of
// `buffer_bytes` ahead of the reader, so that inflating a compressed file overlaps with whatever
// the reader does with the bytes (splitting, parsing). Memory: at most buffers + 2 buffers.
// Read() and the accessors are for one consumer thread; the inner stream is touched only by the
// read-ahead thread (its compression() and path() are read once, at construction). Errors from
// the inner stream reach the reader in order, after the bytes that preceded them. Destroying
// the stream stops and joins the thread.
#pragma once

#include <memory>

#include "engine/io/input_stream.h"

namespace de::engine {

std::unique_ptr<InputStream> NewReadAheadInputStream(std::unique_ptr<InputStream> inner,
                                                     size_t buffer_bytes = 1 << 20,
                                                     int buffers = 4);

}  // namespace de::engine
