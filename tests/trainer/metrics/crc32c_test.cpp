// CRC32C against published check values, and the protobuf wire primitives
// against the examples in the protobuf encoding documentation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trainer/metrics/crc32c.h"
#include "trainer/metrics/event_proto.h"

namespace medtrain::metrics {
namespace {

TEST(Crc32c, CheckValue) {
  // The "check" value of the CRC-32C catalogue entry (reveng, iSCSI).
  EXPECT_EQ(crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string()), 0x00000000u);
}

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<unsigned char>(i);
    down[i] = static_cast<unsigned char>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down.data(), down.size()), 0x113FDB5Cu);
}

TEST(Crc32c, MaskIsTheTfRecordRotation) {
  // mask = rotr15 + 0xa282ead8: check it is invertible the way TF's unmask is.
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
    const uint32_t rot = masked_crc32c(crc) - 0xa282ead8u;
    EXPECT_EQ((rot >> 17) | (rot << 15), crc);
  }
}

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

TEST(EventProto, VarintMatchesProtobufDocs) {
  std::string out;
  detail::put_varint(out, 1);
  EXPECT_EQ(out, bytes({0x01}));
  out.clear();
  detail::put_varint(out, 150);  // the docs' "96 01" example
  EXPECT_EQ(out, bytes({0x96, 0x01}));
  out.clear();
  detail::put_int64_field(out, 1, -1);  // int64 -1: ten bytes, the last 0x01
  EXPECT_EQ(out, bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(EventProto, LengthDelimitedMatchesProtobufDocs) {
  std::string out;
  detail::put_bytes_field(out, 2, "testing");  // the docs' "12 07 74 65 73 74 69 6e 67"
  EXPECT_EQ(out, bytes({0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
}

TEST(EventProto, FixedWidthFieldsAreLittleEndianIeee) {
  std::string out;
  detail::put_float_field(out, 2, 1.0f);  // key (2 << 3) | 5, then 0x3F800000 LE
  EXPECT_EQ(out, bytes({0x15, 0x00, 0x00, 0x80, 0x3F}));
  out.clear();
  detail::put_double_field(out, 1, -2.0);  // key (1 << 3) | 1, then 0xC000000000000000 LE
  EXPECT_EQ(out, bytes({0x09, 0, 0, 0, 0, 0, 0, 0, 0xC0}));
}

}  // namespace
}  // namespace medtrain::metrics
