// CRC32C: the published check values, and both implementations (SSE4.2 and
// slicing-by-8) against a bit-at-a-time reference written from the definition, over many lengths and
// alignments (the fast path handles 8-byte chunks and a tail separately).
#include "data/shard/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace medtrain::data::shard {
namespace {

uint32_t bitwise_crc32c(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int b = 0; b < 8; ++b) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

TEST(Crc32c, CheckValue) {
  // RFC 3720 (iSCSI) B.4 and every CRC catalogue: CRC-32C("123456789").
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c_portable("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  // RFC 3720 B.4: 32 bytes of zeros.
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
}

TEST(Crc32c, MatchesBitwiseReferenceAtAllLengthsAndOffsets) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(1000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n + off <= data.size(); n += 13) {
      const uint32_t want = bitwise_crc32c(data.data() + off, n);
      ASSERT_EQ(crc32c(data.data() + off, n), want) << off << " " << n;           // SSE4.2 where present
      ASSERT_EQ(crc32c_portable(data.data() + off, n), want) << off << " " << n;  // tables
    }
  }
}

TEST(Crc32c, Continues) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(s + 4, 5, crc32c(s, 4)), crc32c(s, 9));
}

}  // namespace
}  // namespace medtrain::data::shard
