#pragma once
// `medtrain infer` with a text bundle (text_bundle.h): reports in, one JSON
// line per report out, in input order.
//   --in: a .jsonl manifest (rows with "id" and "text"; other keys ignored),
//         a .txt file, or a folder of .txt files (recursive; id = path below it)
//   text_classification / multilabel: {"id", "labels": [names >= 0.5], "probabilities": {name: p}}
//   multiclass:                       {"id", "label": name, "probabilities": {name: p}}
//   token_classification:             {"id", "spans": [{"start", "end", "label", "score"}]}
// Span offsets are Unicode code points of the text (Python str indices). The
// text itself is never written. Classification reads the first max_length
// tokens (texts cut are counted); tagging reads every token, in windows of
// max_length that overlap by a quarter, so PHI past the first window is found
// too (Note [Tagging windows]).
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

// The entities a tagging bundle finds in one text (any length).
std::vector<TextSpanPrediction> tag_text(const TextBundle& bundle, const std::string& text);

struct TextInferSummary {
  size_t texts = 0;
  size_t truncated = 0;  // classification: texts longer than max_length (their tail unread)
  std::string device;
};

// UserError for a bad --in or --out (text predictions are .jsonl), DataError
// naming the file and line for a bad input row.
TextInferSummary run_text_inference(const InferOptions& options);

}  // namespace medtrain::exporter
