#pragma once
// The output of `medtrain infer`, chosen by the extension of --out, by task:
//   multiclass
//     .csv    path,label,prob_<label 0>,prob_<label 1>,...   (one row per file)
//     .jsonl  {"path": ..., "label": ..., "label_index": k,
//              "probabilities": {"<label>": p, ...}, "logits": [...]}
//   multilabel (labels: those with probability >= 0.5, joined by '|' as in manifests)
//     .csv    path,labels,prob_<label 0>,...
//     .jsonl  {"path": ..., "labels": [...], "probabilities": {...}, "logits": [...]}
//   segmentation (the mask file is relative to the folder of --out)
//     .csv    path,mask,shape,pixels_<class 0>,...   (shape "64x64" or "16x32x32")
//     .jsonl  {"path": ..., "mask": ..., "shape": [...], "pixels": {"<class>": n, ...}}
//             whole volumes add "masks": {"npy": ..., "seg": ..., "nifti": ...} (those written;
//             "mask" and the .csv's mask column hold the first --mask-format)
// With --saliency (classifiers), the .csv ends with a `saliency` column (the
// first --saliency-format's file, relative to the folder of --out) and each
// .jsonl record has "saliency": {"png": ..., "dicom": ..., "npy": ...} (those
// written).
// Probabilities are written with 9 significant digits (float32 round trip).
#include <filesystem>
#include <string>
#include <vector>

#include "trainer/export/inference.h"

namespace medtrain::exporter {

// UserError when the extension is neither .csv nor .jsonl.
void check_output_path(const std::filesystem::path& out);

std::string predictions_text(const std::filesystem::path& out, const std::vector<Prediction>& predictions,
                             const ModelCard& card);

}  // namespace medtrain::exporter
