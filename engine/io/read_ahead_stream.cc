#include "engine/io/read_ahead_stream.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "engine/columnar/bounded_queue.h"

namespace de::engine {
namespace {

struct Block {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  int64_t compressed_offset = 0;  // the inner stream's offset after producing this block
  bool last = false;              // the inner stream ended (cleanly, or with `error`)
  absl::Status error;
};
using BlockPtr = std::unique_ptr<Block>;

class ReadAheadStream : public InputStream {
 public:
  ReadAheadStream(std::unique_ptr<InputStream> inner, size_t buffer_bytes, int buffers)
      : inner_(std::move(inner)),
        compression_(inner_->compression()),
        path_(inner_->path()),
        buffer_bytes_(std::max<size_t>(buffer_bytes, 4096)),
        max_blocks_(static_cast<size_t>(std::max(1, buffers)) + 2),
        full_(static_cast<size_t>(std::max(1, buffers))),
        free_(max_blocks_ + 1) {
    thread_ = std::thread([this] { Produce(); });
  }
  ~ReadAheadStream() override {
    full_.Close();
    free_.Close();
    thread_.join();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t copied = 0;
    while (copied < n) {
      if (current_ && pos_ < current_->size) {
        const size_t k = std::min(n - copied, current_->size - pos_);
        std::memcpy(buf + copied, current_->data.get() + pos_, k);
        pos_ += k;
        copied += k;
        continue;
      }
      // The current block is used up: hand back what we have rather than wait for the next.
      if (copied > 0) break;
      if (current_ && current_->last) {
        if (!current_->error.ok()) return current_->error;
        return 0;
      }
      if (current_) free_.Push(std::move(current_));  // never blocks: room for every block
      auto next = full_.Pop();
      if (!next) return absl::InternalError(path_ + ": read-ahead stopped");
      current_ = std::move(*next);
      pos_ = 0;
      offset_ = current_->compressed_offset;
    }
    return copied;
  }
  int64_t compressed_offset() const override { return offset_; }
  InputCompression compression() const override { return compression_; }
  const std::string& path() const override { return path_; }

 private:
  // The read-ahead thread: fills blocks from the inner stream until it ends or the reader goes.
  void Produce() {
    size_t allocated = 0;
    while (true) {
      BlockPtr b;
      if (auto reuse = free_.TryPop()) {
        b = std::move(*reuse);
      } else if (allocated < max_blocks_) {
        b = std::make_unique<Block>();
        b->data.reset(new char[buffer_bytes_]);
        ++allocated;
      } else if (auto wait = free_.Pop()) {
        b = std::move(*wait);
      } else {
        return;  // closed: the reader is gone
      }
      b->size = 0;
      while (b->size < buffer_bytes_) {  // a decoder may return less than asked for
        auto r = inner_->Read(b->data.get() + b->size, buffer_bytes_ - b->size);
        if (!r.ok()) b->error = r.status();
        if (!r.ok() || *r == 0) {
          b->last = true;
          break;
        }
        b->size += *r;
      }
      b->compressed_offset = inner_->compressed_offset();
      const bool last = b->last;
      if (!full_.Push(std::move(b)) || last) return;
    }
  }

  std::unique_ptr<InputStream> inner_;  // read-ahead thread only
  const InputCompression compression_;
  const std::string path_;
  const size_t buffer_bytes_;
  const size_t max_blocks_;      // queued + being filled + being read
  BoundedQueue<BlockPtr> full_;  // decoded blocks, in order
  BoundedQueue<BlockPtr> free_;  // blocks the reader has finished with
  std::thread thread_;
  // Reader side.
  BlockPtr current_;
  size_t pos_ = 0;
  int64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<InputStream> NewReadAheadInputStream(std::unique_ptr<InputStream> inner,
                                                     size_t buffer_bytes, int buffers) {
  return std::make_unique<ReadAheadStream>(std::move(inner), buffer_bytes, buffers);
}

}  // namespace de::engine
