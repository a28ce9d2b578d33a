#include "engine/io/input_stream.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/io/stream_base.h"

namespace de::engine {

const char* InputCompressionName(InputCompression c) {
  switch (c) {
    case InputCompression::kNone: return "none";
    case InputCompression::kGzip: return "gzip";
    case InputCompression::kZstd: return "zstd";
  }
  return "?";
}

using internal::RawSource;
using internal::StreamBase;

absl::StatusOr<bool> StreamBase::GzipMemberStarts(int members_done) {
  // A new member must start with the gzip magic; anything else after a complete member is
  // trailing garbage (zero padding is tolerated, as gzip(1) does).
  if (static_cast<unsigned char>(buf_[begin_]) == 0x1f) return true;
  bool zeros = true;
  for (size_t i = begin_; i < end_; ++i) zeros &= buf_[i] == 0;
  if (zeros && members_done > 0) {
    begin_ = end_;
    return false;
  }
  return absl::DataLossError(absl::StrCat(path_, ": unexpected data after gzip member at "
                                          "compressed offset ", compressed_offset()));
}

absl::Status StreamBase::GzipTruncated() const {
  return absl::DataLossError(absl::StrCat(path_,
                                          ": truncated gzip stream (the data ends at compressed "
                                          "offset ", compressed_offset(), " inside a gzip member)"));
}

absl::Status StreamBase::GzipCorrupt(const char* detail) const {
  return absl::DataLossError(absl::StrCat(path_, ": corrupt gzip data at compressed offset ",
                                          compressed_offset(), detail ? ": " : "",
                                          detail ? detail : ""));
}

namespace {

class FdSource : public RawSource {
 public:
  FdSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FdSource() override { ::close(fd_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
    }
  }

 private:
  int fd_;
  std::string path_;
};

class MemorySource : public RawSource {
 public:
  explicit MemorySource(std::string data) : data_(std::move(data)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class PlainStream : public StreamBase {
 public:
  using StreamBase::StreamBase;
  InputCompression compression() const override { return InputCompression::kNone; }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (begin_ < end_) {
      size_t k = std::min(n, end_ - begin_);
      std::memcpy(buf, buf_.data() + begin_, k);
      begin_ += k;
      return k;
    }
    if (eof_) return 0;
    // Large reads go straight into the caller's buffer.
    auto r = src_->Read(buf, n);
    if (!r.ok()) return r.status();
    consumed_before_ += static_cast<int64_t>(*r);
    if (*r == 0) eof_ = true;
    return *r;
  }
};

class ZlibGzipStream : public StreamBase {
 public:
  ZlibGzipStream(std::unique_ptr<RawSource> src, std::string path, std::string prefix, size_t buf)
      : StreamBase(std::move(src), std::move(path), std::move(prefix), buf) {
    std::memset(&zs_, 0, sizeof(zs_));
    init_ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
  }
  ~ZlibGzipStream() override { inflateEnd(&zs_); }
  InputCompression compression() const override { return InputCompression::kGzip; }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!init_ok_) return absl::InternalError("zlib: inflateInit2 failed");
    if (done_ || n == 0) return 0;
    size_t produced = 0;
    while (produced == 0) {
      auto more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (member_started_) return GzipTruncated();
        done_ = true;
        return 0;
      }
      if (!member_started_) {
        DE_ASSIGN_OR_RETURN(bool starts, GzipMemberStarts(members_));
        if (!starts) continue;
        member_started_ = true;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(buf_.data() + begin_);
      zs_.avail_in = static_cast<uInt>(end_ - begin_);
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t used = (end_ - begin_) - zs_.avail_in;
      begin_ += used;
      produced = std::min<size_t>(n, 1u << 30) - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        member_started_ = false;
        ++members_;
        inflateReset(&zs_);
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible with this input; Fill() supplies more on the next turn.
        if (used == 0 && produced == 0 && begin_ < end_) return GzipCorrupt(nullptr);
      } else if (rc != Z_OK) {
        return GzipCorrupt(zs_.msg ? zs_.msg : "inflate error");
      }
    }
    return produced;
  }

 private:
  z_stream zs_;
  bool init_ok_ = false;
  bool member_started_ = false;
  bool done_ = false;
  int members_ = 0;
};

class ZstdStream : public StreamBase {
 public:
  ZstdStream(std::unique_ptr<RawSource> src, std::string path, std::string prefix, size_t buf)
      : StreamBase(std::move(src), std::move(path), std::move(prefix), buf),
        dctx_(ZSTD_createDCtx()) {}
  ~ZstdStream() override { ZSTD_freeDCtx(dctx_); }
  InputCompression compression() const override { return InputCompression::kZstd; }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      // Flush what the decoder holds before asking for more input.
      if (begin_ == end_ && last_ret_ != 0 && pending_output_) {
        ZSTD_inBuffer in{nullptr, 0, 0};
        size_t r = ZSTD_decompressStream(dctx_, &out, &in);
        if (ZSTD_isError(r)) return Corrupt(r);
        last_ret_ = r;
        pending_output_ = out.pos == out.size;
        if (out.pos > 0) break;
      }
      auto more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (last_ret_ != 0) {
          return absl::DataLossError(absl::StrCat(
              path_, ": truncated zstd stream (the data ends at compressed offset ",
              compressed_offset(), " inside a frame)"));
        }
        done_ = true;
        return 0;
      }
      ZSTD_inBuffer in{buf_.data() + begin_, end_ - begin_, 0};
      size_t r = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(r)) return Corrupt(r);
      begin_ += in.pos;
      last_ret_ = r;
      pending_output_ = out.pos == out.size;
    }
    return out.pos;
  }

 private:
  absl::Status Corrupt(size_t r) {
    return absl::DataLossError(absl::StrCat(path_, ": corrupt zstd data at compressed offset ",
                                            compressed_offset(), ": ", ZSTD_getErrorName(r)));
  }
  ZSTD_DCtx* dctx_;
  size_t last_ret_ = 1;  // nonzero: a frame is expected (an empty file is checked before)
  bool pending_output_ = false;
  bool done_ = false;
};

bool UseIsal(GzipDecoder d) {
  if (!HaveIsal() || d == GzipDecoder::kZlib) return false;
  if (d == GzipDecoder::kIsal) return true;
  static const bool env_zlib = [] {
    const char* e = std::getenv("DE_GZIP_DECODER");
    return e != nullptr && std::strcmp(e, "zlib") == 0;
  }();
  return !env_zlib;
}

std::unique_ptr<InputStream> MakeStream(std::unique_ptr<RawSource> src, std::string path,
                                        std::string prefix, size_t buf, GzipDecoder gzip) {
  const auto* m = reinterpret_cast<const unsigned char*>(prefix.data());
  if (prefix.size() >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    if (UseIsal(gzip)) {
      return internal::NewIsalGzipStream(std::move(src), std::move(path), std::move(prefix), buf);
    }
    return std::make_unique<ZlibGzipStream>(std::move(src), std::move(path), std::move(prefix), buf);
  }
  if (prefix.size() >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    return std::make_unique<ZstdStream>(std::move(src), std::move(path), std::move(prefix), buf);
  }
  return std::make_unique<PlainStream>(std::move(src), std::move(path), std::move(prefix), buf);
}

// Reads up to 4 bytes to sniff the magic number.
absl::StatusOr<std::string> ReadPrefix(RawSource* src) {
  std::string prefix(4, '\0');
  size_t got = 0;
  while (got < prefix.size()) {
    auto n = src->Read(prefix.data() + got, prefix.size() - got);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    got += *n;
  }
  prefix.resize(got);
  return prefix;
}

}  // namespace

bool HaveIsal() {
#ifdef DE_HAVE_ISAL
  return true;
#else
  return false;
#endif
}

const char* DefaultGzipDecoderName() { return UseIsal(GzipDecoder::kAuto) ? "isal" : "zlib"; }

absl::StatusOr<std::unique_ptr<InputStream>> OpenInputStream(const std::string& path,
                                                             const InputStreamOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto src = std::make_unique<FdSource>(fd, path);
  auto prefix = ReadPrefix(src.get());
  if (!prefix.ok()) return prefix.status();
  return MakeStream(std::move(src), path, std::move(*prefix),
                    std::max<size_t>(16, options.raw_buffer_bytes), options.gzip);
}

std::unique_ptr<InputStream> NewMemoryInputStream(std::string data, std::string name,
                                                  const InputStreamOptions& options) {
  const size_t buf = std::max<size_t>(4, std::min(options.raw_buffer_bytes, data.size() + 16));
  auto src = std::make_unique<MemorySource>(std::move(data));
  auto prefix = ReadPrefix(src.get());
  return MakeStream(std::move(src), std::move(name), prefix.ok() ? *prefix : std::string(), buf,
                    options.gzip);
}

}  // namespace de::engine
