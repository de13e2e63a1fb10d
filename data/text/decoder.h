#pragma once
// Token strings back to text (HF `decoders`), the last step of
// Tokenizer::decode: ByteLevel (byte_level.h), WordPiece ("##" pieces glued,
// others joined with a space, then BERT's clean-up of spaces before
// punctuation and contractions), or none (tokens joined with spaces, as HF
// without a decoder). Another type in tokenizer.json loads, but decode()
// refuses it with its name.
#include <string>
#include <vector>

namespace medtrain::data::text {

enum class DecoderKind { kNone, kByteLevel, kWordPiece, kUnsupported };

struct DecoderOptions {
  DecoderKind kind = DecoderKind::kNone;
  std::string prefix = "##";  // WordPiece
  bool cleanup = true;        // WordPiece
  std::string type;           // the tokenizer.json name, for the kUnsupported error
};

// Throws DataError for kUnsupported.
std::string decode_tokens(const std::vector<std::string>& tokens, const DecoderOptions& options);

}  // namespace medtrain::data::text
