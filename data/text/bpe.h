#pragma once
// Stage 3 for BPE tokenizers: HF `models::bpe::BPE`. A word starts as one
// symbol per code point (byte-level tokenizers: per byte); merges are applied
// lowest rank first, leftmost first among equal ranks, each merge re-pairing
// the new symbol with its neighbours (HF's `Word::merge_all`, so the result is
// the same even for merge lists that are not a clean training history).
// A code point missing from the vocabulary becomes unk_token (fused with its
// unknown neighbours when fuse_unk) or, without unk_token, is dropped, as HF.
// No cache: merging is O(n log n) in the word's length and words are short.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/text/tokenizer_model.h"

namespace medtrain::data::text {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // put before every symbol but a word's first
  std::string end_of_word_suffix;         // put after a word's last symbol
  bool fuse_unk = false;
  bool ignore_merges = false;  // a word that is itself in the vocabulary is one token
};

class Bpe final : public TokenizerModel {
 public:
  // `merges` in rank order (rank = index). Throws DataError naming the merge
  // when a side or the merged token is not in `vocab`, or when unk_token is not.
  Bpe(std::unordered_map<std::string, int32_t> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options);

  void tokenize(const NormalizedText& text, Span word, std::vector<Piece>& out) const override;
  const std::unordered_map<std::string, int32_t>& vocab() const override { return vocab_; }
  size_t merge_count() const { return merges_.size(); }

 private:
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  struct Symbol {
    int32_t id;
    uint32_t start, end;  // code points of the word
    int32_t prev, next;   // neighbours in the word, -1 at the ends
    bool alive;
  };
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void initial_symbols(const NormalizedText& text, Span word, std::vector<Symbol>& symbols) const;
  void merge_all(std::vector<Symbol>& symbols) const;
  const Merge* find_merge(int32_t a, int32_t b) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  BpeOptions options_;
  int32_t unk_id_ = -1;
};

}  // namespace medtrain::data::text
