// One attempt's log on the worker, from the task's output to the chunks sent to the scheduler:
// secrets masked (LogMask), size capped (LogCap), every byte numbered (LogChunk.offset), and a
// copy spooled to a file so that the chunks a dead connection swallowed can be sent again from
// the offset the scheduler says it has stored (RegisterAck.log_offsets). The spool holds at most
// the capped log, is created with the first byte (an attempt that logs nothing makes no file) and
// is removed with the object.
//
// Thread-compatible: the owner serialises every call (the agent holds its mutex).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "de/v1/worker.pb.h"
#include "worker/log_cap.h"
#include "worker/log_mask.h"

namespace de::worker {

class AttemptLog {
 public:
  // `spool_path` empty = no spool (nothing can be sent again); `max_bytes` 0 = no cap.
  AttemptLog(int64_t attempt_id, std::string spool_path, const std::vector<std::string>& mask,
             int64_t max_bytes);
  ~AttemptLog();
  AttemptLog(const AttemptLog&) = delete;
  AttemptLog& operator=(const AttemptLog&) = delete;

  // Masks and caps `text` (task output, or a line of the worker's own) and returns the chunks
  // to send now (none or one).
  std::vector<v1::LogChunk> Feed(std::string_view text);
  // The end of the log: the mask's held-back bytes, the cap's marker and tail.
  std::vector<v1::LogChunk> Finish();
  // Chunks that carry the log again from byte `from` to what has been sent so far (empty when
  // there is no spool or nothing after `from`), each at most kResendChunkBytes.
  std::vector<v1::LogChunk> Since(int64_t from) const;
  // Bytes numbered so far (the next chunk's offset).
  int64_t size() const { return size_; }
  // Masks a whole text (errors, summaries).
  std::string MaskAll(const std::string& text) const { return mask_.MaskAll(text); }

  static constexpr int64_t kResendChunkBytes = 256 << 10;

 private:
  // Numbers `data` as the next bytes, spools it, and appends its chunk to `out`.
  void Emit(std::string data, std::vector<v1::LogChunk>* out);
  void OpenSpool();

  const int64_t attempt_id_;
  const std::string spool_path_;
  int spool_fd_ = -1;
  bool spool_tried_ = false;
  LogMask mask_;
  LogCap cap_;
  int64_t size_ = 0;
};

}  // namespace de::worker
