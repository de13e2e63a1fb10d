// Keyed pseudonyms: HMAC-SHA-256 against RFC 4231, UID derivation against an
// independent long division, validity of every UID we produce.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>

using namespace std::string_literals;

#include "data/deid/keyed.h"

namespace medtrain::data::deid {
namespace {

std::string hex(const Digest& d) { return to_hex(d.data(), d.size()); }

TEST(DeidKeyed, HmacMatchesRfc4231) {
  // Test case 1: key = 0x0b * 20, data = "Hi There".
  EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key = "Jefe".
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size.
  EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Decimal of a big-endian byte string by schoolbook long division, the slow way.
std::string decimal_by_division(std::vector<int> bytes) {
  std::string digits;
  auto is_zero = [&] {
    for (int b : bytes) if (b) return false;
    return true;
  };
  if (is_zero()) return "0";
  while (!is_zero()) {
    int rem = 0;
    for (int& b : bytes) {
      const int cur = rem * 256 + b;
      b = cur / 10;
      rem = cur % 10;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + rem));
  }
  return digits;
}

TEST(DeidKeyed, UidIsTheFirst128BitsInDecimal) {
  Digest all_ones{};
  all_ones.fill(0xFF);
  EXPECT_EQ(uid_from_digest(all_ones), "2.25.340282366920938463463374607431768211455");  // 2^128 - 1
  EXPECT_EQ(uid_from_digest(Digest{}), "2.25.0");
  std::mt19937 rng(7);
  for (int t = 0; t < 200; ++t) {
    Digest d{};
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    std::vector<int> first16(d.begin(), d.begin() + 16);
    EXPECT_EQ(uid_from_digest(d), "2.25." + decimal_by_division(first16));
  }
}

TEST(DeidKeyed, RemappedUidsAreValidStableAndKeyed) {
  const Pseudonymizer a("key-one-0123456789"), a2("key-one-0123456789"), b("key-two-0123456789");
  const std::regex valid(R"(2\.25\.(0|[1-9][0-9]{0,38}))");
  for (int i = 0; i < 100; ++i) {
    const std::string uid = "1.2.840.113619.2.55.3." + std::to_string(1000 + i);
    const std::string out = a.remap_uid(uid);
    EXPECT_TRUE(std::regex_match(out, valid)) << out;
    EXPECT_LE(out.size(), 64u);
    EXPECT_EQ(out, a2.remap_uid(uid));
    EXPECT_NE(out, b.remap_uid(uid));
    EXPECT_NE(out, a.remap_uid(uid + "1"));
  }
  EXPECT_EQ(a.remap_uid("1.2.3"), a.remap_uid("1.2.3\0"s.substr(0, 6)));  // UI padding ignored
  EXPECT_EQ(a.remap_uid("1.2.3"), a.remap_uid(" 1.2.3 "));
}

TEST(DeidKeyed, PseudonymIsDomainSeparatedHmac) {
  const std::string key = "a-secret-key-of-some-length";
  const Pseudonymizer p(key);
  // Independent: HMAC over "medtrain-deid/patient\0" + id, first 16 bytes in hex.
  const Digest d = hmac_sha256(key, std::string("medtrain-deid/patient") + '\0' + "MRN-12345");
  EXPECT_EQ(p.patient_pseudonym("MRN-12345"), to_hex(d.data(), 16));
  EXPECT_EQ(p.patient_pseudonym("MRN-12345").size(), 32u);
  EXPECT_NE(p.patient_pseudonym("MRN-12345"), Pseudonymizer("another-key-0123456").patient_pseudonym("MRN-12345"));
  for (int i = 0; i < 200; ++i) {
    const int off = p.day_offset("patient" + std::to_string(i));
    EXPECT_GE(off, -3652);
    EXPECT_LE(off, -1);
  }
}

}  // namespace
}  // namespace medtrain::data::deid
