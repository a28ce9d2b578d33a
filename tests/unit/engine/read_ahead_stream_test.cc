// Tests engine/io/read_ahead_stream: bytes and offsets as the inner stream gives them, errors
// after the bytes that precede them, and a reader that stops early.
#include "engine/io/read_ahead_stream.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/io/codec.h"

namespace de::engine {
namespace {

using ::testing::HasSubstr;

std::string Gzip(const std::string& in) {
  ByteBuffer out;
  EXPECT_TRUE(CompressBlock(Codec::kGzip, 0, in.data(), in.size(), &out).ok());
  return std::string(out.data(), out.size());
}

std::string Payload(int rows) {
  std::string s;
  for (int64_t i = 0; i < rows; ++i) s += std::to_string(i * 7919 % 1000003) + ",row\n";
  return s;
}

TEST(ReadAheadStreamTest, SameBytesAsTheInnerStream) {
  const std::string p = Payload(300000);
  const std::string z = Gzip(p) + Gzip("x\n");
  for (int buffers : {1, 2, 4}) {
    for (size_t step : {size_t{1000}, size_t{4096}, size_t{1} << 20}) {
      auto in = NewReadAheadInputStream(NewMemoryInputStream(z, "r.csv.gz"), 4096, buffers);
      EXPECT_EQ(in->compression(), InputCompression::kGzip);
      EXPECT_EQ(in->path(), "r.csv.gz");
      std::string got, buf(step, '\0');
      while (true) {
        auto n = in->Read(buf.data(), buf.size());
        ASSERT_TRUE(n.ok()) << n.status();
        if (*n == 0) break;
        got.append(buf.data(), *n);
      }
      EXPECT_TRUE(got == p + "x\n") << buffers << " " << step;
      EXPECT_EQ(in->compressed_offset(), static_cast<int64_t>(z.size()));
      EXPECT_EQ(*in->Read(buf.data(), buf.size()), 0u);  // stays at the end
    }
  }
}

TEST(ReadAheadStreamTest, ErrorComesAfterTheBytesBeforeIt) {
  const std::string p = Payload(300000);
  const std::string z = Gzip(p);
  auto in = NewReadAheadInputStream(NewMemoryInputStream(z.substr(0, z.size() / 2), "t.csv.gz"),
                                    8192, 2);
  std::string got, buf(5000, '\0');
  absl::Status error;
  while (true) {
    auto n = in->Read(buf.data(), buf.size());
    if (!n.ok()) {
      error = n.status();
      break;
    }
    ASSERT_NE(*n, 0u) << "a truncated stream must not end cleanly";
    got.append(buf.data(), *n);
  }
  EXPECT_THAT(error.message(), HasSubstr("t.csv.gz: truncated gzip stream"));
  EXPECT_GT(got.size(), 0u);
  EXPECT_TRUE(p.compare(0, got.size(), got) == 0);  // a prefix of the payload
  EXPECT_FALSE(in->Read(buf.data(), buf.size()).ok());  // and the error stays
}

TEST(ReadAheadStreamTest, PlainAndEmpty) {
  auto empty = NewReadAheadInputStream(NewMemoryInputStream("", "e.csv"));
  char c;
  EXPECT_EQ(*empty->Read(&c, 1), 0u);
  auto plain = NewReadAheadInputStream(NewMemoryInputStream("a,b\n", "p.csv"));
  std::string buf(10, '\0');
  EXPECT_EQ(*plain->Read(buf.data(), buf.size()), 4u);
  EXPECT_EQ(buf.substr(0, 4), "a,b\n");
  EXPECT_EQ(*plain->Read(buf.data(), buf.size()), 0u);
}

TEST(ReadAheadStreamTest, ReaderStoppingEarlyDoesNotHang) {
  const std::string z = Gzip(Payload(300000));
  for (int i = 0; i < 20; ++i) {
    auto in = NewReadAheadInputStream(NewMemoryInputStream(z, "s.csv.gz"), 4096, 1);
    char buf[100];
    if (i % 2) ASSERT_TRUE(in->Read(buf, sizeof(buf)).ok());
    // Destroyed here, with the read-ahead thread blocked on a full queue (or not started).
  }
}

}  // namespace
}  // namespace de::engine
