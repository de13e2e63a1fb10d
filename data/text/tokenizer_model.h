#pragma once
// Stage 3's interface: a subword model (WordPiece, BPE) turns one pre-tokenized
// word into pieces. Both read a NormalizedText so that Note [Offsets] carries
// through: a piece's span is a range of that text's code points.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/text/normalized_text.h"

namespace medtrain::data::text {

// A model token: its id and the normalized code points it covers.
struct Piece {
  int32_t id;
  Span span;
};

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Appends the pieces of the word text.chars[word) to `out`. Thread-safe.
  virtual void tokenize(const NormalizedText& text, Span word, std::vector<Piece>& out) const = 0;
  virtual const std::unordered_map<std::string, int32_t>& vocab() const = 0;
};

}  // namespace medtrain::data::text
