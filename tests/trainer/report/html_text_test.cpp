// The run report's text pieces: HTML escaping and base64 (OpenSSL's encoder,
// checked against RFC 4648's vectors and, across its chunk boundary, against
// OpenSSL's decoder).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

#include "trainer/report/html_text.h"

namespace medtrain::report {
namespace {

TEST(HtmlEscape, EscapesMarkupAndQuotesAndKeepsTheRest) {
  EXPECT_EQ(html_escape("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
  EXPECT_EQ(html_escape("\"x\" 'y'"), "&quot;x&quot; &#39;y&#39;");
  EXPECT_EQ(html_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");  // escaped again: the text is shown as it was written
  EXPECT_EQ(html_escape("Ünïcode\tand\nlines"), "Ünïcode\tand\nlines");
  EXPECT_EQ(html_escape(std::string("a\0b", 3)), "a&#xFFFD;b");
  EXPECT_EQ(html_escape(""), "");
}

TEST(Base64, MatchesRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\x00\xff\xfe", 3)), "AP/+");
}

TEST(Base64, LongInputsAcrossTheEncodersChunksDecodeBackExactly) {
  // 3 MiB + 2 bytes: two chunks, padding only at the very end.
  std::string bytes((3u << 20) + 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919) >> 3);
  const std::string encoded = base64_encode(bytes);
  ASSERT_EQ(encoded.size(), (bytes.size() + 2) / 3 * 4);
  EXPECT_EQ(encoded.find('\n'), std::string::npos);
  EXPECT_EQ(encoded.find('='), encoded.size() - 1);  // 2 bytes left over: one '='
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  ASSERT_EQ(n, static_cast<int>(decoded.size()));
  decoded.resize(bytes.size());  // EVP_DecodeBlock counts the padding as zero bytes
  EXPECT_EQ(decoded, bytes);
}

TEST(PngDataUri, IsTheMediaTypeAndTheBase64) {
  EXPECT_EQ(png_data_uri("foobar"), "data:image/png;base64,Zm9vYmFy");
}

}  // namespace
}  // namespace medtrain::report
