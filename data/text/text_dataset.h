#pragma once
// A JSONL report manifest (text_manifest.h) as a data::Dataset: every text is
// tokenised once, when the dataset opens (WordPiece is cheap next to the
// encoder), so get() only copies ids. Samples are ragged (Note [Ragged
// samples] in data/dataset.h): the loader pads each batch to its longest text.
//
//   kClass       target int64 scalar: the one name in "labels" (multiclass)
//   kMultiLabel  target float32 [K]: 1 per name in "labels" (report findings)
//   kTags        target int64 [L]: BIO tag per token (bio_tags.h) from the
//                character "spans"; special tokens kIgnoreTag
//
// Texts longer than max_length tokens are truncated (the tail is dropped) and
// counted; for tagging, spans past the cut are lost with it, also counted.
//
// The same samples come from a text pack (`medtrain pack -c`, text_pack.h):
// tokenise_text_manifest makes the TextExamples both paths hold, and
// make_text_dataset builds the dataset from them, whichever path read them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/text/text_example.h"

namespace medtrain::data::text {

enum class TextTarget { kClass, kMultiLabel, kTags };

struct TextDatasetOptions {
  std::string manifest;                  // .jsonl
  std::string split;                     // empty = all rows
  TextTarget target = TextTarget::kMultiLabel;
  std::vector<std::string> label_names;  // classes, findings, or entity types (kTags)
  std::string tokenizer_dir;             // tokenizer.json, else vocab.txt
  int64_t max_length = 128;              // tokens, special tokens included
};

struct TextDatasetStats {
  size_t texts = 0;
  size_t truncated = 0;            // texts cut at max_length
  size_t spans_cut = 0;            // kTags: spans lost or shortened by the cut
  size_t invalid_utf8 = 0;         // replacement characters the tokenizer inserted
  int64_t longest = 0;             // tokens of the longest text after truncation
};

class TextDataset final : public Dataset {
 public:
  size_t size() const override { return examples_.size(); }
  Sample get(size_t index, uint64_t rng_seed) const override;
  std::string describe(size_t index) const override;
  int64_t label(size_t index) const override;
  RaggedLayout ragged() const override;
  int64_t length(size_t index) const override { return static_cast<int64_t>(examples_.at(index).ids.size()); }

  const TextDatasetStats& stats() const { return stats_; }
  int64_t pad_id() const { return pad_id_; }
  const std::vector<TextExample>& examples() const { return examples_; }

 private:
  friend std::shared_ptr<TextDataset> make_text_dataset(const TextDatasetOptions& options, std::string source,
                                                        std::vector<TextExample> examples, int64_t pad_id);
  TextDatasetOptions options_;
  std::string source_;  // what describe() names: the manifest, or the pack folder
  std::vector<TextExample> examples_;
  int64_t pad_id_ = 0;
  TextDatasetStats stats_;
};

struct TokenisedManifest {
  std::vector<TextExample> examples;  // the rows of options.split (empty: all), in file order
  int64_t pad_id = 0;                 // the tokenizer's [PAD] (0 when it has none)
};

// Reads options.manifest, checks every row of it for options (the errors of
// open_text_dataset below) and tokenises the rows of options.split.
TokenisedManifest tokenise_text_manifest(const TextDatasetOptions& options);

// A dataset of examples made by tokenise_text_manifest (directly, or read back
// from a text pack); `source` names where they came from in describe().
std::shared_ptr<TextDataset> make_text_dataset(const TextDatasetOptions& options, std::string source,
                                               std::vector<TextExample> examples, int64_t pad_id);

// tokenise_text_manifest + make_text_dataset. DataError naming the manifest
// (and line) or the tokenizer folder: a bad row (text_manifest.h), a missing
// column for the target (no "labels" for classification, no "spans" for
// tagging), a multiclass row with other than one label (any split: the train
// and val readers, and `medtrain pack`, accept and refuse the same file), no
// tokenizer files, max_length under 3.
std::shared_ptr<TextDataset> open_text_dataset(const TextDatasetOptions& options);

}  // namespace medtrain::data::text
