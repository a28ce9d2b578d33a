#include "worker/attempt_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "spdlog/spdlog.h"

namespace de::worker {

AttemptLog::AttemptLog(int64_t attempt_id, std::string spool_path,
                       const std::vector<std::string>& mask, int64_t max_bytes)
    : attempt_id_(attempt_id), spool_path_(std::move(spool_path)), mask_(mask), cap_(max_bytes) {}

void AttemptLog::OpenSpool() {
  spool_tried_ = true;
  if (spool_path_.empty()) return;
  spool_fd_ = open(spool_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (spool_fd_ < 0) {
    spdlog::warn("attempt={}: cannot create log spool {}: {}; a log chunk lost with the "
                 "connection cannot be sent again",
                 attempt_id_, spool_path_, strerror(errno));
  }
}

AttemptLog::~AttemptLog() {
  if (spool_fd_ >= 0) {
    close(spool_fd_);
    unlink(spool_path_.c_str());
  }
}

void AttemptLog::Emit(std::string data, std::vector<v1::LogChunk>* out) {
  if (data.empty()) return;
  if (!spool_tried_) OpenSpool();   // with the first byte: a silent attempt makes no file
  if (spool_fd_ >= 0) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = pwrite(spool_fd_, data.data() + done, data.size() - done,
                         size_ + static_cast<int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        spdlog::warn("attempt={}: writing log spool {}: {}; it is no longer used", attempt_id_,
                     spool_path_, strerror(errno));
        close(spool_fd_);
        unlink(spool_path_.c_str());
        spool_fd_ = -1;
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  v1::LogChunk c;
  c.set_attempt_id(attempt_id_);
  c.set_offset(size_);
  size_ += static_cast<int64_t>(data.size());
  c.set_data(std::move(data));
  out->push_back(std::move(c));
}

std::vector<v1::LogChunk> AttemptLog::Feed(std::string_view text) {
  std::vector<v1::LogChunk> out;
  Emit(cap_.Feed(mask_.Feed(text)), &out);
  return out;
}

std::vector<v1::LogChunk> AttemptLog::Finish() {
  std::vector<v1::LogChunk> out;
  std::string rest = cap_.Feed(mask_.Flush());
  rest += cap_.Finish();
  Emit(std::move(rest), &out);
  return out;
}

std::vector<v1::LogChunk> AttemptLog::Since(int64_t from) const {
  std::vector<v1::LogChunk> out;
  if (spool_fd_ < 0 || from < 0) return out;
  for (int64_t at = from; at < size_;) {
    std::string data(static_cast<size_t>(std::min(kResendChunkBytes, size_ - at)), '\0');
    ssize_t n = pread(spool_fd_, data.data(), data.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.resize(static_cast<size_t>(n));
    v1::LogChunk c;
    c.set_attempt_id(attempt_id_);
    c.set_offset(at);
    at += n;
    c.set_data(std::move(data));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace de::worker
