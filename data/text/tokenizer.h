#pragma once
// A BERT WordPiece tokenizer, the pipeline of Hugging Face `tokenizers`:
//   added tokens -> BertNormalizer -> BertPreTokenizer -> WordPiece
//   -> truncation -> template post-processor -> padding
// loaded from a tokenizer.json (tokenizer_json.cpp) or a vocab.txt.
// Token ids and offsets match HF `tokenizers` (tests/data/text/wordpiece_parity_test.py).
// Input is UTF-8 bytes; see Note [Invalid UTF-8] (utf8.h) and Note [Offsets]
// (normalized_text.h). Only WordPiece models for now; byte-level BPE is not supported.
//
// Thread safety: a Tokenizer is immutable after setup; encode* may run on any
// number of threads at once (setters must not run concurrently with them).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/text/added_vocabulary.h"
#include "data/text/bert_normalizer.h"
#include "data/text/bert_pre_tokenizer.h"
#include "data/text/encoding.h"
#include "data/text/padding.h"
#include "data/text/template_processor.h"
#include "data/text/truncation.h"
#include "data/text/wordpiece.h"

namespace medtrain::data::text {

// Options for a tokenizer built from a plain vocab.txt (BertTokenizer's defaults).
struct VocabFileOptions {
  BertNormalizerOptions normalizer;
  WordPieceOptions wordpiece;
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
};

struct TokenizerParts {
  std::optional<BertNormalizer> normalizer;  // absent: text is used as is
  bool pre_tokenize = true;                  // BertPreTokenizer, or the whole text as one word
  std::unique_ptr<WordPiece> model;
  AddedVocabulary added;
  TemplateProcessor processor;
  std::optional<TruncationOptions> truncation;
  std::optional<PaddingOptions> padding;
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerParts parts);

  // Reads an HF tokenizer.json; throws DataError naming the file and the field.
  static Tokenizer from_json_file(const std::string& path);
  static Tokenizer from_json_string(std::string_view json, const std::string& where);
  // Reads a vocab.txt (one token per line, id = line number) with BERT's pipeline.
  static Tokenizer from_vocab_file(const std::string& path, const VocabFileOptions& options = {});

  Encoding encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode_pair(std::string_view a, std::string_view b, bool add_special_tokens = true) const;
  // Encodes each text; with BatchLongest padding, pads all to the longest.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     bool add_special_tokens = true) const;

  void set_truncation(std::optional<TruncationOptions> t) { parts_.truncation = std::move(t); }
  void set_padding(std::optional<PaddingOptions> p) { parts_.padding = std::move(p); }
  const std::optional<TruncationOptions>& truncation() const { return parts_.truncation; }
  const std::optional<PaddingOptions>& padding() const { return parts_.padding; }

  size_t vocab_size() const { return id_to_token_.size(); }
  int32_t token_to_id(const std::string& token) const;  // -1 when absent
  const std::string& id_to_token(int32_t id) const;     // "" when absent

 private:
  Encoding encode_sequence(std::string_view text, int32_t sequence) const;
  Encoding finish(Encoding a, Encoding* b, bool add_special_tokens) const;

  TokenizerParts parts_;
  BertPreTokenizer pre_tokenizer_;
  std::vector<std::string> id_to_token_;
};

}  // namespace medtrain::data::text
