#pragma once
// A Hugging Face Whisper folder (config.json, model.safetensors or
// pytorch_model.bin, optional generation_config.json) -> a Whisper with those
// weights. medtrain's own export (state_dict() saved as model.safetensors
// beside the config.json) is such a folder too.
//
// Loading is strict: every missing, unexpected or misshapen tensor is listed
// in one ModelError. Two Whisper-specific checks: proj_out.weight, when a file
// holds it, must equal the token embedding (Whisper ties them); the encoder's
// embed_positions must be the sinusoid Whisper was trained with.
#include <filesystem>
#include <string>
#include <vector>

#include "models/asr/whisper.h"
#include "models/safetensors.h"

namespace medtrain::models::asr {

struct HfWhisper {
  Whisper model{nullptr};          // eval mode, CPU, fp32
  std::vector<std::string> notes;  // what was done to load it (e.g. a tied proj_out.weight dropped)
  std::filesystem::path weights_file;
};

// config.json, then generation_config.json's special tokens when present.
WhisperConfig read_hf_whisper_config(const std::filesystem::path& dir);

// ModelError naming the folder and the problem.
HfWhisper load_hf_whisper(const std::filesystem::path& dir);

// Loads HF-named tensors (from any source: HF safetensors, our export, the
// CTranslate2 mapping) into `model` with the checks above; `origin` is named
// in errors; what was dropped is appended to `notes`.
void load_whisper_weights(Whisper& model, NamedTensors tensors, const std::string& origin,
                          std::vector<std::string>& notes);

}  // namespace medtrain::models::asr
