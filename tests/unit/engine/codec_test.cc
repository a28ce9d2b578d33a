// Page codecs: round trips, names, and errors on corrupt or mis-sized input.
#include "engine/io/codec.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace de::engine {
namespace {

std::string SampleData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  static const char* kWords[] = {"JFK", "LAX", "ORD", "2024-01-01", "delay", "12", "-3"};
  while (s.size() < n) s += std::string(kWords[rng() % 7]) + ",";
  s.resize(n);
  return s;
}

class CodecTest : public testing::TestWithParam<Codec> {};

TEST_P(CodecTest, RoundTrip) {
  for (size_t n : {0u, 1u, 100u, 70000u, 1u << 20}) {
    std::string data = SampleData(n, static_cast<uint32_t>(n));
    ByteBuffer out;
    out.Append("prefix", 6);  // CompressBlock appends
    ASSERT_TRUE(CompressBlock(GetParam(), 0, data.data(), data.size(), &out).ok());
    ASSERT_GE(out.size(), 6u);
    EXPECT_LE(out.size() - 6, MaxCompressedSize(GetParam(), n));
    if (GetParam() != Codec::kNone && n >= 70000) {
      EXPECT_LT(out.size(), n / 2);
    }
    std::string back(n, '\0');
    ASSERT_TRUE(DecompressBlock(GetParam(), out.data() + 6, out.size() - 6, back.data(), n).ok()) << n;
    EXPECT_EQ(back, data);
    if (n > 0) {
      std::string wrong(n + 1, '\0');  // a size that does not match is an error
      EXPECT_FALSE(DecompressBlock(GetParam(), out.data() + 6, out.size() - 6, wrong.data(), n + 1).ok());
    }
  }
}

TEST_P(CodecTest, LevelsRoundTrip) {
  std::string data = SampleData(100000, 5);
  for (int level : {1, 9}) {
    ByteBuffer out;
    ASSERT_TRUE(CompressBlock(GetParam(), level, data.data(), data.size(), &out).ok());
    std::string back(data.size(), '\0');
    ASSERT_TRUE(DecompressBlock(GetParam(), out.data(), out.size(), back.data(), back.size()).ok());
    EXPECT_EQ(back, data);
  }
}

TEST_P(CodecTest, CorruptInputIsAnError) {
  if (GetParam() == Codec::kNone) GTEST_SKIP();
  std::string data = SampleData(50000, 9);
  ByteBuffer out;
  ASSERT_TRUE(CompressBlock(GetParam(), 0, data.data(), data.size(), &out).ok());
  std::mt19937 rng(1);
  int errors = 0;
  for (int iter = 0; iter < 200; ++iter) {
    std::string bad(out.data(), out.size());
    if (iter % 2) {
      bad.resize(rng() % bad.size());
    } else {
      for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    std::string back(data.size(), '\0');
    auto s = DecompressBlock(GetParam(), bad.data(), bad.size(), back.data(), back.size());
    if (!s.ok()) ++errors;
  }
  EXPECT_GT(errors, 50);
}

INSTANTIATE_TEST_SUITE_P(All, CodecTest,
                         testing::Values(Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd, Codec::kLz4,
                                         Codec::kLz4Raw),
                         [](const testing::TestParamInfo<Codec>& info) { return std::string(CodecName(info.param)); });

TEST(Codec, Names) {
  Codec c;
  ASSERT_TRUE(ParseCodec("uncompressed", &c));
  EXPECT_EQ(c, Codec::kNone);
  ASSERT_TRUE(ParseCodec("none", &c));
  EXPECT_EQ(c, Codec::kNone);
  ASSERT_TRUE(ParseCodec("zstd", &c));
  EXPECT_EQ(c, Codec::kZstd);
  EXPECT_FALSE(ParseCodec("lz4", &c));
  EXPECT_STREQ(CodecName(Codec::kGzip), "gzip");
  for (Codec k : {Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    Codec back;
    ASSERT_TRUE(CodecFromParquetId(ParquetCodecId(k), &back));
    EXPECT_EQ(back, k);
  }
  EXPECT_EQ(ParquetCodecId(Codec::kZstd), 6);
  ASSERT_TRUE(CodecFromParquetId(5, &c));
  EXPECT_EQ(c, Codec::kLz4);
  ASSERT_TRUE(CodecFromParquetId(7, &c));
  EXPECT_EQ(c, Codec::kLz4Raw);
  EXPECT_FALSE(ParseCodec("lz4_raw", &c));  // read-only codecs
  EXPECT_FALSE(CodecFromParquetId(3, &c));
  EXPECT_EQ(ParquetCodecName(3), "LZO");
  EXPECT_EQ(ParquetCodecName(4), "BROTLI");
  EXPECT_EQ(ParquetCodecName(7), "LZ4_RAW");
  EXPECT_EQ(ParquetCodecName(99), "codec 99");
}

TEST(Codec, GzipPageOfSeveralMembers) {
  std::string a = SampleData(30000, 1), b = SampleData(20000, 2);
  ByteBuffer out;
  ASSERT_TRUE(CompressBlock(Codec::kGzip, 0, a.data(), a.size(), &out).ok());
  ASSERT_TRUE(CompressBlock(Codec::kGzip, 0, "", 0, &out).ok());  // an empty member in between
  ASSERT_TRUE(CompressBlock(Codec::kGzip, 0, b.data(), b.size(), &out).ok());
  std::string back(a.size() + b.size(), '\0');
  auto s = DecompressBlock(Codec::kGzip, out.data(), out.size(), back.data(), back.size());
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(back, a + b);
  std::string short_back(a.size(), '\0');  // members beyond the declared size are an error
  EXPECT_FALSE(DecompressBlock(Codec::kGzip, out.data(), out.size(), short_back.data(), short_back.size()).ok());
}

TEST(Codec, Lz4HadoopFramingOfSeveralBlocksAndRawFallback) {
  std::string a = SampleData(40000, 3), b = SampleData(25000, 4);
  ByteBuffer framed;
  ASSERT_TRUE(CompressBlock(Codec::kLz4, 0, a.data(), a.size(), &framed).ok());
  ASSERT_TRUE(CompressBlock(Codec::kLz4, 0, b.data(), b.size(), &framed).ok());
  std::string back(a.size() + b.size(), '\0');
  auto s = DecompressBlock(Codec::kLz4, framed.data(), framed.size(), back.data(), back.size());
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(back, a + b);
  // Old parquet-cpp wrote a raw block under the LZ4 id.
  ByteBuffer raw;
  ASSERT_TRUE(CompressBlock(Codec::kLz4Raw, 0, a.data(), a.size(), &raw).ok());
  std::string back2(a.size(), '\0');
  s = DecompressBlock(Codec::kLz4, raw.data(), raw.size(), back2.data(), back2.size());
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(back2, a);
}

}  // namespace
}  // namespace de::engine
