#pragma once
// Text manifests (JSONL): one JSON object per line, one report per object.
//
//   {"id": "R0001", "patient": "P0003", "split": "train",
//    "text": "No pneumothorax. Small left effusion.",
//    "labels": ["effusion"],
//    "spans": [{"start": 0, "end": 4, "label": "NAME"}]}
//
// "id" and "text" are required; "patient", "split", "labels" and "spans" are
// optional; other keys are ignored; blank lines are skipped. Span offsets are
// Unicode code points [start, end) into "text" (what a Python str slices), not
// bytes. Every row is checked, whatever the split filter (so a train and a val
// reader accept and refuse the same file); any problem throws data::DataError
// with one line "<path>:<line>: <what>". docs/text.md, "Report manifests (JSONL)".
// Thread-safe; no state.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

struct TextSpan {
  int64_t start = 0, end = 0;  // Unicode code-point offsets [start, end) into text
  std::string label;
};

struct TextRow {
  std::string id, patient, split, text;
  std::vector<std::string> labels;  // as written in the row ("labels": ["effusion", ...]); may be empty
  std::vector<TextSpan> spans;      // sorted by start; never overlapping
  size_t line = 0;                  // 1-based line of the manifest
};

struct TextManifestOptions {
  std::string path;                      // the .jsonl file
  std::string split;                     // keep only rows of this split; empty = all rows
  std::vector<std::string> label_names;  // allowed names in "labels" and in span "label"; empty = anything
  // `medtrain infer` reads transcripts, where silent audio gives "text": ""
  // (docs/asr.md): there an empty text is a text to predict on, as an empty
  // .txt file is. Training and evaluation keep refusing it.
  bool allow_empty_text = false;
};

struct TextManifest {
  std::string path;
  std::vector<TextRow> rows;                   // after the split filter, in file order
  bool has_labels = false, has_spans = false;  // any row of the file (before the filter) had the key
};

// Reads and checks the whole file (guarded read, io::kMaxManifestBytes). Throws
// DataError: unreadable file, a line that is not a JSON object, a missing or
// ill-typed key, a duplicate or empty id, empty text (unless allow_empty_text), invalid UTF-8 (the byte
// offset in the line is named), a label not in label_names, a span outside the
// text, empty, or overlapping another, a patient in two splits, no rows at all.
// A split filter that keeps no rows is not an error (rows is empty).
TextManifest read_text_manifest(const TextManifestOptions& options);

}  // namespace medtrain::data::text
