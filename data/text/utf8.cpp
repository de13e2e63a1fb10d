#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

// The accepted range of the second byte after a lead byte (Unicode Table 3-7).
struct SecondRange {
  uint8_t lo, hi;
};

bool lead_info(uint8_t b, int& len, SecondRange& second) {
  if (b >= 0xC2 && b <= 0xDF) { len = 2; second = {0x80, 0xBF}; return true; }
  if (b == 0xE0) { len = 3; second = {0xA0, 0xBF}; return true; }
  if (b == 0xED) { len = 3; second = {0x80, 0x9F}; return true; }
  if (b >= 0xE1 && b <= 0xEF) { len = 3; second = {0x80, 0xBF}; return true; }
  if (b == 0xF0) { len = 4; second = {0x90, 0xBF}; return true; }
  if (b >= 0xF1 && b <= 0xF3) { len = 4; second = {0x80, 0xBF}; return true; }
  if (b == 0xF4) { len = 4; second = {0x80, 0x8F}; return true; }
  return false;  // 80..C1 (continuation or overlong lead) and F5..FF
}

}  // namespace

DecodedText decode_utf8_lossy(std::string_view bytes) {
  DecodedText out;
  out.chars.reserve(bytes.size());
  out.byte_start.reserve(bytes.size() + 1);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = p[i];
    out.byte_start.push_back(static_cast<uint32_t>(i));
    if (b < 0x80) {
      out.chars.push_back(b);
      ++i;
      continue;
    }
    int len = 0;
    SecondRange second{};
    if (!lead_info(b, len, second)) {
      out.chars.push_back(U'\uFFFD');
      ++out.replacements;
      ++i;
      continue;
    }
    char32_t cp = b & (0xFF >> (len + 1));
    size_t k = 1;
    for (; k < static_cast<size_t>(len); ++k) {
      if (i + k >= n) break;
      const uint8_t c = p[i + k];
      const bool ok = k == 1 ? (c >= second.lo && c <= second.hi) : (c >= 0x80 && c <= 0xBF);
      if (!ok) break;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (k == static_cast<size_t>(len)) {
      out.chars.push_back(cp);
    } else {  // a maximal subpart [i, i+k) that cannot be completed: one U+FFFD
      out.chars.push_back(U'\uFFFD');
      ++out.replacements;
    }
    i += k;
  }
  out.byte_start.push_back(static_cast<uint32_t>(n));
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace medtrain::data::text
