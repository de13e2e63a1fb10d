#include "trainer/report/html_text.h"

#include <openssl/evp.h>

#include <algorithm>

namespace medtrain::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "&#xFFFD;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  // EVP_EncodeBlock takes an int length: encode in chunks whose size is a
  // multiple of 3, so the pieces concatenate to the one encoding (no padding
  // but at the very end).
  constexpr size_t kChunk = 3u << 20;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::string buffer;
  for (size_t at = 0; at < bytes.size(); at += kChunk) {
    const size_t n = std::min(kChunk, bytes.size() - at);
    buffer.resize((n + 2) / 3 * 4 + 1);  // + the NUL EVP_EncodeBlock writes
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buffer.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data() + at), static_cast<int>(n));
    out.append(buffer.data(), static_cast<size_t>(written));
  }
  return out;
}

std::string png_data_uri(std::string_view png) { return "data:image/png;base64," + base64_encode(png); }

}  // namespace medtrain::report
