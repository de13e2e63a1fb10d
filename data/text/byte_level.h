#pragma once
// GPT-2's byte-to-unicode alphabet (HF `pre_tokenizers::byte_level`): every
// byte is written as one printable code point, so that a byte-level BPE
// vocabulary is plain text. Printable Latin-1 bytes (! .. ~, ¡ .. ¬, ® .. ÿ)
// stand for themselves; the other 68 (controls, space, DEL, NBSP, soft hyphen)
// become U+0100 + their rank among those 68 in byte order (space -> 'Ġ'
// U+0120, '\n' -> 'Ċ' U+010A).
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

// The code point that stands for byte b.
char32_t byte_to_char(uint8_t b);
// The byte that code point c stands for, or -1 when c is not in the alphabet.
int char_to_byte(char32_t c);

// The ByteLevel decoder (HF `decoders::ByteLevel`): maps each token's code
// points back to bytes (a token with any code point outside the alphabet, such
// as an added token "日本", contributes its own UTF-8 bytes instead), joins
// them, and decodes the bytes with U+FFFD for ill-formed sequences (a token
// list cut inside a character), as Rust's String::from_utf8_lossy.
std::string byte_level_decode(const std::vector<std::string>& tokens);

}  // namespace medtrain::data::text
