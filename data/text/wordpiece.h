#pragma once
// Stage 3: the WordPiece model (HF `models::wordpiece::WordPiece`): greedy
// longest-match-first over each word; pieces after the first carry the
// continuing-subword prefix ("##"). A word longer than max_input_chars_per_word
// code points, or one that cannot be covered by the vocabulary, becomes one
// unk token spanning the whole word.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/text/tokenizer_model.h"

namespace medtrain::data::text {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPiece final : public TokenizerModel {
 public:
  // `vocab` maps token -> id; throws DataError when unk_token is not in it.
  WordPiece(std::unordered_map<std::string, int32_t> vocab, WordPieceOptions options);

  // Appends the pieces of the word text.chars[word) to `out`.
  void tokenize(const NormalizedText& text, Span word, std::vector<Piece>& out) const override;

  int32_t unk_id() const { return unk_id_; }
  const std::unordered_map<std::string, int32_t>& vocab() const override { return vocab_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  WordPieceOptions options_;
  int32_t unk_id_ = 0;
  size_t max_token_bytes_ = 0;  // longest vocabulary entry without the prefix: bounds the search
};

}  // namespace medtrain::data::text
