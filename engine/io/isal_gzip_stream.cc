// gzip input inflated by ISA-L (igzip): one member at a time, re-initialised at each member's end
// so multi-member files (pigz, bgzip, `cat a.gz b.gz`) read as one stream. Framing errors
// (truncation, garbage after a member) are the same as the zlib decoder's.
// What ISA-L does not handle goes to zlib: ISA-L 2.30 rejects a valid header CRC (FHCRC) when the
// header arrives in more than one piece, so a member whose header has FHCRC is inflated by zlib.
#include "engine/io/stream_base.h"

#include <zlib.h>

#ifdef DE_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::engine::internal {

#ifdef DE_HAVE_ISAL
namespace {

const char* IsalError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect checksum";
    case ISAL_NEED_DICT: return "a preset dictionary is required";
    default: return "inflate error";
  }
}

class IsalGzipStream : public StreamBase {
 public:
  IsalGzipStream(std::unique_ptr<RawSource> src, std::string path, std::string prefix, size_t buf)
      : StreamBase(std::move(src), std::move(path), std::move(prefix), buf),
        state_(std::make_unique<inflate_state>()) {
    isal_inflate_init(state_.get());
  }
  ~IsalGzipStream() override {
    if (zlib_init_) inflateEnd(&zs_);
  }
  InputCompression compression() const override { return InputCompression::kGzip; }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    const uint32_t cap = static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
    size_t produced = 0;
    while (produced == 0) {
      if (!member_started_) {
        DE_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) {
          done_ = true;
          return 0;
        }
        DE_ASSIGN_OR_RETURN(bool starts, GzipMemberStarts(members_));
        if (!starts) continue;
        DE_RETURN_IF_ERROR(StartMember());
      }
      // With the buffer empty, refill; at the end of the file, one more call drains what the
      // decoder holds (buffered bits, pending output) before the member counts as truncated.
      DE_ASSIGN_OR_RETURN(bool more, Fill());
      size_t used = 0;
      bool member_end = false;
      if (zlib_member_) {
        DE_RETURN_IF_ERROR(InflateZlib(buf, cap, &used, &produced, &member_end));
      } else {
        DE_RETURN_IF_ERROR(InflateIsal(buf, cap, &used, &produced, &member_end));
      }
      if (member_end) {
        member_started_ = false;
        ++members_;
      } else if (!more && produced == 0) {
        return GzipTruncated();
      } else if (more && used == 0 && produced == 0) {
        return GzipCorrupt("no progress");
      }
    }
    return produced;
  }

 private:
  absl::Status StartMember() {
    // FLG is the member's fourth byte; FHCRC is its bit 1.
    DE_ASSIGN_OR_RETURN(size_t avail, Peek(4));
    zlib_member_ = avail >= 4 && (static_cast<unsigned char>(buf_[begin_ + 3]) & 0x02) != 0;
    member_started_ = true;
    if (zlib_member_) {
      if (!zlib_init_) {
        zlib_init_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
        if (!zlib_init_) return absl::InternalError("zlib: inflateInit2 failed");
      } else {
        inflateReset(&zs_);
      }
      return absl::OkStatus();
    }
    isal_inflate_reset(state_.get());
    state_->crc_flag = ISAL_GZIP;
    return absl::OkStatus();
  }

  absl::Status InflateIsal(char* out, uint32_t cap, size_t* used, size_t* produced, bool* end) {
    inflate_state* s = state_.get();
    s->next_in = reinterpret_cast<uint8_t*>(buf_.data() + begin_);
    s->avail_in = static_cast<uint32_t>(end_ - begin_);
    s->next_out = reinterpret_cast<uint8_t*>(out);
    s->avail_out = cap;
    const int rc = isal_inflate(s);
    *used = (end_ - begin_) - s->avail_in;
    begin_ += *used;
    *produced = cap - s->avail_out;
    if (rc < 0 || rc == ISAL_NEED_DICT) return GzipCorrupt(IsalError(rc));
    *end = s->block_state == ISAL_BLOCK_FINISH;
    return absl::OkStatus();
  }

  absl::Status InflateZlib(char* out, uint32_t cap, size_t* used, size_t* produced, bool* end) {
    zs_.next_in = reinterpret_cast<Bytef*>(buf_.data() + begin_);
    zs_.avail_in = static_cast<uInt>(end_ - begin_);
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = cap;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    *used = (end_ - begin_) - zs_.avail_in;
    begin_ += *used;
    *produced = cap - zs_.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return GzipCorrupt(zs_.msg ? zs_.msg : "inflate error");
    }
    *end = rc == Z_STREAM_END;
    return absl::OkStatus();
  }

  std::unique_ptr<inflate_state> state_;  // ~40 KB: on the heap
  z_stream zs_{};
  bool zlib_init_ = false;
  bool zlib_member_ = false;  // this member's header has FHCRC
  bool member_started_ = false;
  bool done_ = false;
  int members_ = 0;
};

}  // namespace

std::unique_ptr<InputStream> NewIsalGzipStream(std::unique_ptr<RawSource> src, std::string path,
                                               std::string prefix, size_t buffer_bytes) {
  return std::make_unique<IsalGzipStream>(std::move(src), std::move(path), std::move(prefix),
                                          buffer_bytes);
}
#else
std::unique_ptr<InputStream> NewIsalGzipStream(std::unique_ptr<RawSource>, std::string,
                                               std::string, size_t) {
  return nullptr;  // callers check HaveIsal()
}
#endif

}  // namespace de::engine::internal
