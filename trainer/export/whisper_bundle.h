#pragma once
// A Whisper model -> a self-contained speech-recognition bundle (issue 15
// item 8; docs/export.md, "Whisper bundles"). The folder is a Hugging Face
// Whisper folder (transformers' WhisperForConditionalGeneration.from_pretrained
// and `medtrain transcribe --model DIR` read it) plus ONNX graphs:
//   DIR/config.json                HF WhisperConfig keys (sizes, special ids, suppression lists)
//   DIR/generation_config.json     the special ids and suppression lists HF's generate reads
//   DIR/preprocessor_config.json   the log-mel front end (WhisperFeatureExtractor keys + our padding)
//   DIR/tokenizer.json             copied from the source, with vocabulary.txt when it has one
//   DIR/model.safetensors          the state dict under HF names (proj_out is tied, not stored)
//   DIR/encoder.onnx, cross_kv.onnx, decoder_step.onnx   see whisper_to_onnx.h
//   DIR/model.yaml                 architecture, sizes, ONNX inputs/outputs, provenance, SHA-256 of every file
// written into a hidden sibling folder, every file fsynced, then renamed into
// place (as export_bundle.h does): DIR is absent, the old bundle, or the new one.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/asr/whisper.h"
#include "trainer/export/export_bundle.h"

namespace medtrain::exporter {

struct WhisperExportOptions {
  ExportFormats formats{true, true};  // safetensors: model.safetensors; onnx: the three graphs
  bool overwrite = false;             // replace a non-empty `out` (else a UserError)
  std::string source;                 // where the model came from, for model.yaml (a folder, a checkpoint)
  // Extra provenance for model.yaml's `training` map (a checkpoint's step,
  // config_sha256, ...); empty for a pretrained folder.
  std::map<std::string, std::string> provenance;
};

struct WhisperExportResult {
  std::vector<std::string> files;  // written into out, in order
};

// `model` is read, not changed (its parameters are copied to CPU float32).
// `tokenizer_dir` holds tokenizer.json (required) and, optionally,
// vocabulary.txt. UserError for a bad `out` (not a folder, not empty without
// overwrite, missing parent), a tokenizer_dir without tokenizer.json, or no
// format asked for; nothing is left behind on failure.
WhisperExportResult export_whisper_bundle(models::asr::Whisper& model, const std::string& tokenizer_dir,
                                          const std::filesystem::path& out, const WhisperExportOptions& options = {});

}  // namespace medtrain::exporter
