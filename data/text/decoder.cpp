#include "data/text/decoder.h"

#include <utility>

#include "data/data_error.h"
#include "data/text/byte_level.h"

namespace medtrain::data::text {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// HF `decoders::wordpiece::cleanup`, in its order.
void cleanup(std::string& s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},     {" ?", "?"},     {" !", "!"},           {" ,", ","},
      {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"},         {" do not", " don't"},
      {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) replace_all(s, from, to);
}

std::string wordpiece_decode(const std::vector<std::string>& tokens, const DecoderOptions& o) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string token = tokens[i];
    if (i > 0) {
      if (token.compare(0, o.prefix.size(), o.prefix) == 0) {
        token.erase(0, o.prefix.size());
      } else {
        token.insert(0, " ");
      }
    }
    if (o.cleanup) cleanup(token);
    out += token;
  }
  return out;
}

}  // namespace

std::string decode_tokens(const std::vector<std::string>& tokens, const DecoderOptions& options) {
  switch (options.kind) {
    case DecoderKind::kByteLevel:
      return byte_level_decode(tokens);
    case DecoderKind::kWordPiece:
      return wordpiece_decode(tokens, options);
    case DecoderKind::kNone: {
      std::string out;
      for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
      return out;
    }
    case DecoderKind::kUnsupported:
      break;
  }
  throw DataError("decode: the tokenizer's decoder \"" + options.type +
                  "\" is not supported (ByteLevel, WordPiece or none)");
}

}  // namespace medtrain::data::text
