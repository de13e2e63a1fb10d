#pragma once
// Whisper weights from a CTranslate2 model folder (faster-whisper's format:
// model.bin, config.json, tokenizer.json, vocabulary.txt) as a state_dict with
// the parameter names of Hugging Face WhisperForConditionalGeneration, so the
// model in models/asr/ loads them like HF safetensors. The sizes are read off
// the weights (a CTranslate2 config.json holds none of them). The mapping, and
// what is dropped or checked on the way, is in Note [CTranslate2 -> HF names]
// in whisper_ct2_weights.cpp and in docs/asr.md.
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "models/asr/ct2_model_file.h"
#include "models/safetensors.h"

namespace medtrain::models::asr {

// The fields of HF's WhisperConfig that fix the parameter shapes.
struct WhisperDims {
  int64_t num_mel_bins = 0;
  int64_t d_model = 0;
  int64_t encoder_layers = 0, decoder_layers = 0;
  int64_t encoder_attention_heads = 0, decoder_attention_heads = 0;
  int64_t encoder_ffn_dim = 0, decoder_ffn_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_source_positions = 0, max_target_positions = 0;
};

struct WhisperCt2Weights {
  WhisperDims dims;
  NamedTensors state_dict;  // HF names, CPU tensors of the dtype asked for
  bool tied_output = false; // proj_out.weight is the token embedding (an alias in model.bin)
  bool dequantized = false; // some weights were int8/int16 in the file
};

inline constexpr const char* kWhisperCt2Spec = "WhisperSpec";
inline constexpr uint32_t kWhisperCt2Revision = 3;

// The mapping of an already-read model.bin. ModelError for a missing,
// misshapen or unexpected variable, or a flag Whisper does not have.
WhisperCt2Weights whisper_weights_from_ct2(const Ct2ModelFile& file, torch::ScalarType dtype);

// Reads `path` (a CTranslate2 folder or its model.bin), refusing any spec but
// WhisperSpec revision 3 before reading the variables.
WhisperCt2Weights load_whisper_ct2(const std::filesystem::path& path, torch::ScalarType dtype = torch::kFloat32);

}  // namespace medtrain::models::asr
