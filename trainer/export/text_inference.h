#pragma once
// `medtrain infer` with a text bundle (text_bundle.h): reports in, one JSON
// line per report out, in input order.
//   --in: a .jsonl manifest (rows with "id" and "text"; other keys ignored),
//         a .txt file, or a folder of .txt files (recursive; id = path below it).
//         As for DICOM inputs, links are followed and only regular files are
//         read: a FIFO or a device is refused before any read (never a hang),
//         and a folder's other entries are passed over.
//   --out: written once, atomically, after every text was predicted: a failed
//         run leaves an existing file as it was.
//   text_classification / multilabel: {"id", "labels": [names >= 0.5], "probabilities": {name: p}}
//   multiclass:                       {"id", "label": name, "probabilities": {name: p}}
//   token_classification:             {"id", "spans": [{"start", "end", "label", "score"}]}
// Span offsets are Unicode code points of the text (Python str indices). The
// text itself is never written. Classification reads the first max_length
// tokens (texts cut are counted); tagging reads every token, in windows of
// max_length that overlap by a quarter, so PHI past the first window is found
// too (Note [Tagging windows]).
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/export/inference.h"
#include "trainer/export/text_bundle.h"

namespace medtrain::exporter {

struct TextSpanPrediction {
  int64_t start = 0, end = 0;  // code points [start, end)
  std::string label;
  float score = 0;  // the mean probability of the span's tags
};

// Classification's input: [CLS] the first max_length - 2 tokens of `text`
// [SEP], as the model saw texts in training; *truncated (when given) says
// whether the text had more tokens.
std::vector<int64_t> classification_ids(const TextBundle& bundle, const std::string& text, bool* truncated = nullptr);

// The bundle's encoder and head on rows of token ids (each padded here to the
// longest row with the encoder's pad id, which is also the attention mask),
// without autograd: float32 logits on the CPU, [N, K] or, for tagging,
// [N, longest, K]. What `medtrain infer` runs per batch (and what
// scripts/bench/text_infer_forward_bench.cpp times).
torch::Tensor text_logits(const TextBundle& bundle, const std::vector<std::vector<int64_t>>& rows);

// The entities a tagging bundle finds in one text (any length).
std::vector<TextSpanPrediction> tag_text(const TextBundle& bundle, const std::string& text);

struct TextInferSummary {
  size_t texts = 0;
  size_t truncated = 0;  // classification: texts longer than max_length (their tail unread)
  size_t empty = 0;      // texts of no characters (a silent dictation's transcript): predicted on [CLS] [SEP]
  std::string device;
};

// UserError for a bad --in or --out (text predictions are .jsonl), DataError
// naming the file and line for a bad input row.
TextInferSummary run_text_inference(const InferOptions& options);

}  // namespace medtrain::exporter
