// Tests engine/io/isal_gzip_stream (gzip input through ISA-L): multi-member files, empty members,
// truncation, corruption, header fields, and byte-for-byte agreement with the zlib decoder on a
// large random payload read through tiny and odd-sized buffers.
#include <zlib.h>

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/io/input_stream.h"

namespace de::engine {
namespace {

using ::testing::HasSubstr;

// One gzip member written by zlib: `level` 0 gives stored blocks; `name` sets FNAME/FCOMMENT/FEXTRA.
std::string Gzip(const std::string& in, int level = 6, bool header_fields = false) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header h{};
  char name[] = "flights.csv", comment[] = "a comment";
  unsigned char extra[] = {'d', 'e', 3, 0, 1, 2, 3};
  if (header_fields) {
    h.name = reinterpret_cast<Bytef*>(name);
    h.comment = reinterpret_cast<Bytef*>(comment);
    h.extra = extra;
    h.extra_len = sizeof(extra);
    h.hcrc = 1;
    EXPECT_EQ(deflateSetHeader(&zs, &h), Z_OK);
  }
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

absl::StatusOr<std::string> ReadAll(InputStream* in, size_t step) {
  std::string out, buf(step, '\0');
  while (true) {
    auto n = in->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

absl::StatusOr<std::string> Decode(const std::string& z, GzipDecoder d, size_t raw_buffer = 1 << 20,
                                   size_t step = 65536, const std::string& name = "x.csv.gz") {
  InputStreamOptions o;
  o.gzip = d;
  o.raw_buffer_bytes = raw_buffer;
  auto in = NewMemoryInputStream(z, name, o);
  EXPECT_EQ(in->compression(), InputCompression::kGzip);
  return ReadAll(in.get(), step);
}

// CSV-like text with random runs, so that blocks mix literals and matches.
std::string RandomPayload(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(bytes + 64);
  while (s.size() < bytes) {
    if (rng() % 8 == 0) {
      for (int i = 0; i < 40; ++i) s += static_cast<char>(rng() % 256);  // incompressible
    } else {
      s += "2001-01-0" + std::to_string(rng() % 10) + "," + std::to_string(rng() % 100000) +
           ",ATL,SFO\n";
    }
  }
  return s;
}

class IsalGzipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveIsal()) GTEST_SKIP() << "built without ISA-L";
  }
};

TEST_F(IsalGzipTest, LargeRandomPayloadMatchesZlib) {
  const std::string payload = RandomPayload(12 << 20, 7);
  for (int level : {1, 6, 9}) {
    const std::string z = Gzip(payload, level);
    auto isal = Decode(z, GzipDecoder::kIsal);
    ASSERT_TRUE(isal.ok()) << isal.status();
    auto zlib = Decode(z, GzipDecoder::kZlib);
    ASSERT_TRUE(zlib.ok()) << zlib.status();
    EXPECT_TRUE(*isal == payload) << "level " << level;
    EXPECT_TRUE(*zlib == *isal) << "level " << level;
  }
}

TEST_F(IsalGzipTest, MultiMemberThroughOddBuffers) {
  const std::string a = RandomPayload(300000, 1), b = "x,y\n", c = RandomPayload(70000, 2);
  const std::string z = Gzip(a, 1) + Gzip(b, 0) + Gzip("") + Gzip(c, 9, true) + Gzip(b);
  const std::string want = a + b + c + b;
  // Raw buffers smaller than a gzip header or trailer, and read sizes that split everything.
  for (size_t raw : {4, 5, 7, 13, 64, 4099, 1 << 20}) {
    for (size_t step : {1, 333, 65536}) {
      if (step == 1 && raw > 64) continue;  // slow and adds nothing
      auto got = Decode(z, GzipDecoder::kIsal, raw, step);
      ASSERT_TRUE(got.ok()) << got.status() << " raw " << raw << " step " << step;
      EXPECT_TRUE(*got == want) << "raw " << raw << " step " << step;
    }
  }
}

TEST_F(IsalGzipTest, EmptyMembers) {
  EXPECT_EQ(*Decode(Gzip(""), GzipDecoder::kIsal), "");
  EXPECT_EQ(*Decode(Gzip("") + Gzip("") + Gzip("a\n") + Gzip(""), GzipDecoder::kIsal, 7), "a\n");
}

TEST_F(IsalGzipTest, HeaderFieldsAreSkipped) {
  EXPECT_EQ(*Decode(Gzip("a,b\n1,2\n", 6, true), GzipDecoder::kIsal, 5, 3), "a,b\n1,2\n");
}

TEST_F(IsalGzipTest, TruncatedAnywhereIsAnError) {
  const std::string z = Gzip(RandomPayload(200000, 3)) + Gzip("tail\n");
  const size_t first = z.size() - Gzip("tail\n").size();
  // Inside the header, the deflate data, the trailer; and inside the second member.
  for (size_t cut : {size_t{3}, size_t{15}, first / 2, first - 5, first - 1, first + 4,
                     z.size() - 1}) {
    for (size_t raw : {size_t{7}, size_t{1} << 20}) {
      auto r = Decode(z.substr(0, cut), GzipDecoder::kIsal, raw, 4096, "t.csv.gz");
      ASSERT_FALSE(r.ok()) << "cut " << cut << " raw " << raw;
      EXPECT_THAT(r.status().message(), HasSubstr("t.csv.gz: truncated gzip stream")) << cut;
      EXPECT_THAT(r.status().message(), HasSubstr("compressed offset " + std::to_string(cut)));
    }
  }
}

TEST_F(IsalGzipTest, CorruptDataIsAnError) {
  std::string z = Gzip(RandomPayload(200000, 4));
  for (size_t i = 20; i < 60; ++i) z[i] ^= 0x5a;
  auto r = Decode(z, GzipDecoder::kIsal, 1 << 20, 4096, "c.csv.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("c.csv.gz: corrupt gzip data at compressed offset"));
}

TEST_F(IsalGzipTest, BadChecksumIsAnError) {
  std::string z = Gzip("a,b\n1,2\n");
  z[z.size() - 6] ^= 1;  // CRC-32
  auto r = Decode(z, GzipDecoder::kIsal);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("corrupt gzip data"));
  std::string size = Gzip("a,b\n1,2\n");
  size[size.size() - 2] ^= 1;  // ISIZE
  EXPECT_FALSE(Decode(size, GzipDecoder::kIsal).ok());
}

TEST_F(IsalGzipTest, TrailingBytes) {
  // Zero padding after a member is tolerated (as gzip(1) does); other bytes are an error.
  EXPECT_EQ(*Decode(Gzip("a\n") + std::string(10, '\0'), GzipDecoder::kIsal, 5), "a\n");
  auto r = Decode(Gzip("a\n") + "junk", GzipDecoder::kIsal);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unexpected data after gzip member"));
}

TEST(GzipDecoderTest, DefaultIsIsalWhenBuiltWithIt) {
  EXPECT_STREQ(DefaultGzipDecoderName(), HaveIsal() ? "isal" : "zlib");
  // kIsal without ISA-L falls back to zlib rather than failing.
  EXPECT_EQ(*Decode(Gzip("a\n") + Gzip("b\n"), GzipDecoder::kIsal), "a\nb\n");
}

}  // namespace
}  // namespace de::engine
