#include "data/text/byte_level.h"

#include <array>

#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

bool stands_for_itself(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Alphabet {
  std::array<char32_t, 256> char_of{};
  std::array<int16_t, 0x144> byte_of{};  // every alphabet code point is below U+0144

  Alphabet() {
    byte_of.fill(-1);
    char32_t shifted = 0x100;
    for (int b = 0; b < 256; ++b) {
      char_of[b] = stands_for_itself(b) ? static_cast<char32_t>(b) : shifted++;
      byte_of[char_of[b]] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t byte_to_char(uint8_t b) { return alphabet().char_of[b]; }

int char_to_byte(char32_t c) { return c < 0x144 ? alphabet().byte_of[c] : -1; }

std::string byte_level_decode(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const std::string& token : tokens) {
    const DecodedText chars = decode_utf8_lossy(token);
    const size_t mark = bytes.size();
    bool in_alphabet = chars.replacements == 0;
    for (size_t i = 0; in_alphabet && i < chars.chars.size(); ++i) {
      const int b = char_to_byte(chars.chars[i]);
      in_alphabet = b >= 0;
      if (in_alphabet) bytes.push_back(static_cast<char>(b));
    }
    if (!in_alphabet) bytes.replace(mark, std::string::npos, token);
  }
  const DecodedText text = decode_utf8_lossy(bytes);
  if (text.replacements == 0) return bytes;
  std::string out;
  out.reserve(bytes.size() + 2 * text.replacements);
  for (const char32_t c : text.chars) append_utf8(out, c);
  return out;
}

}  // namespace medtrain::data::text
