#pragma once
// The output of `medtrain infer`, chosen by the extension of --out:
//   .csv    path,label,prob_<label 0>,prob_<label 1>,...   (one row per file)
//   .jsonl  {"path": ..., "label": ..., "label_index": k,
//            "probabilities": {"<label>": p, ...}, "logits": [...]}
// Probabilities are written with 9 significant digits (float32 round trip).
#include <filesystem>
#include <string>
#include <vector>

#include "trainer/export/inference.h"

namespace medtrain::exporter {

// UserError when the extension is neither .csv nor .jsonl.
void check_output_path(const std::filesystem::path& out);

std::string predictions_text(const std::filesystem::path& out, const std::vector<Prediction>& predictions,
                             const std::vector<std::string>& labels);

}  // namespace medtrain::exporter
