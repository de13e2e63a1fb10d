#pragma once
// `medtrain export`: a verified checkpoint -> a self-contained model bundle
//   DIR/model.safetensors   the model's state dict (parameters, then buffers)
//   DIR/model.onnx          opset 17, dynamic batch (see torch_to_onnx.h)
//   DIR/model.yaml          architecture, preprocessing, labels, provenance (model_card.h)
// (text models: text_bundle.h)
// written into a hidden sibling directory, every file fsynced, then renamed
// into place, so DIR is either absent, the old bundle, or the complete new one.
#include <filesystem>
#include <string>
#include <vector>

#include "trainer/export/model_card.h"

namespace medtrain::exporter {

struct ExportFormats {
  bool safetensors = false;
  bool onnx = false;
};

// "safetensors,onnx" (any order, spaces allowed) -> formats; UserError naming
// an unknown or empty entry and the known ones.
ExportFormats parse_formats(const std::string& list);

struct ExportOptions {
  std::filesystem::path checkpoint;  // step dir, `latest`/`best` link, or a ckpt folder
  std::filesystem::path out;
  ExportFormats formats{true, true};
  bool overwrite = false;  // replace a non-empty `out` (else a UserError)
};

struct ExportResult {
  std::filesystem::path checkpoint;  // the checkpoint as named
  std::vector<std::string> files;    // written into out
  std::vector<std::string> notes;    // what was asked for but not written, and why
  ModelCard card;
};

// Throws CheckpointError (exit 2) when the checkpoint fails verification,
// UserError for a bad --out, and UserError naming the op when the model
// cannot be expressed in ONNX. Nothing is left behind on failure.
ExportResult export_bundle(const ExportOptions& options);

}  // namespace medtrain::exporter
