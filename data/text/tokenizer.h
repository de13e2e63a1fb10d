#pragma once
// A tokenizer, the pipeline of Hugging Face `tokenizers`:
//   added tokens -> normalizer (BertNormalizer or none)
//   -> pre-tokenizer (BertPreTokenizer, ByteLevel or none) -> model (WordPiece or BPE)
//   -> truncation -> template post-processor -> padding
// and back: ids -> tokens -> decoder (ByteLevel, WordPiece) -> text.
// Loaded from a tokenizer.json (tokenizer_json.cpp; BERT WordPiece, GPT-2 style
// byte-level BPE such as Whisper's) or a BERT vocab.txt. Token ids and offsets
// match HF `tokenizers` (tests/data/text/{wordpiece,bpe}_parity_test.py).
// Input is UTF-8 bytes; see Note [Invalid UTF-8] (utf8.h) and Note [Offsets]
// (normalized_text.h).
//
// Thread safety: a Tokenizer is immutable after setup; encode* may run on any
// number of threads at once (setters must not run concurrently with them).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/text/added_vocabulary.h"
#include "data/text/bert_normalizer.h"
#include "data/text/bert_pre_tokenizer.h"
#include "data/text/byte_level_pre_tokenizer.h"
#include "data/text/decoder.h"
#include "data/text/encoding.h"
#include "data/text/offset_trimming.h"
#include "data/text/padding.h"
#include "data/text/template_processor.h"
#include "data/text/tokenizer_model.h"
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

enum class PreTokenizerKind { kNone, kBert, kByteLevel };  // kNone: the whole text is one word

// A token of tokenizer.json's added_tokens (or vocabulary.txt's extras).
struct AddedTokenSpec {
  std::string content;
  int32_t id;
  bool special;  // dropped by decode(skip_special_tokens)
};

struct TokenizerParts {
  std::optional<BertNormalizer> normalizer;  // absent: text is used as is
  PreTokenizerKind pre_tokenizer = PreTokenizerKind::kBert;
  ByteLevelOptions byte_level;  // for kByteLevel
  std::unique_ptr<TokenizerModel> model;
  std::vector<AddedTokenSpec> added;
  DecoderOptions decoder;
  TemplateProcessor processor;
  OffsetTrimming trimming;  // the ByteLevel / RobertaProcessing post-processors' trim_offsets
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

  // Ids back to text, as HF's decode: ids -> tokens (added tokens first, then
  // the model's; ids that name nothing are dropped) -> the decoder. With
  // skip_special_tokens, special added tokens are dropped first. Throws
  // DataError when the tokenizer.json's decoder is not supported.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const;

  // A CTranslate2 vocabulary.txt (line i = token i): checks that it agrees
  // with this tokenizer on every id both know, and adds the ids it lacks as
  // special added tokens (Whisper's timestamps <|0.00|> .. <|30.00|>). Throws
  // DataError naming the file and line on a disagreement. A setter.
  void add_vocabulary_file(const std::string& path);
  void add_token(const AddedTokenSpec& token);  // a setter

  // Model vocabulary plus added tokens (HF's get_vocab_size(with_added_tokens=True)).
  size_t vocab_size() const { return id_to_token_.size(); }
  int32_t token_to_id(const std::string& token) const;  // -1 when absent; added tokens first
  const std::string& id_to_token(int32_t id) const;     // "" when absent

 private:
  Encoding encode_sequence(std::string_view text, int32_t sequence) const;
  Encoding finish(Encoding a, Encoding* b, bool add_special_tokens) const;
  void pre_tokenize(NormalizedText& text, uint32_t begin, std::vector<Span>& words) const;

  TokenizerParts parts_;
  AddedVocabulary added_;
  std::unordered_map<std::string, int32_t> added_ids_;
  BertPreTokenizer bert_pre_tokenizer_;
  ByteLevelPreTokenizer byte_level_pre_tokenizer_;
  std::vector<std::string> id_to_token_;
};

}  // namespace medtrain::data::text
