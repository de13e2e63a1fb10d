#pragma once
// The shape of a Whisper model and its special token ids, read from a Hugging
// Face config.json (WhisperConfig's keys) and, when present, the folder's
// generation_config.json. The sizes are required (every published config has
// them; a guess would only surface later as a shape mismatch); a setting
// medtrain does not implement (another activation, untied output projection)
// is a ModelError naming the key, never silently ignored.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::models::asr {

struct WhisperConfig {
  int64_t vocab_size = 0;
  int64_t num_mel_bins = 0;
  int64_t d_model = 0;
  int64_t encoder_layers = 0, decoder_layers = 0;
  int64_t encoder_attention_heads = 0, decoder_attention_heads = 0;
  int64_t encoder_ffn_dim = 0, decoder_ffn_dim = 0;
  int64_t max_source_positions = 0;  // encoder frames after the stride-2 conv (1500 = 30 s)
  int64_t max_target_positions = 0;  // decoder tokens, prompt included (448)
  bool scale_embedding = false;      // token embeddings times sqrt(d_model)
  double dropout = 0.0, attention_dropout = 0.0, activation_dropout = 0.0;

  // Special tokens (-1: not given). The .en prompt is
  // <|startoftranscript|> (decoder_start_token_id) <|notimestamps|>.
  int64_t decoder_start_token_id = -1;
  int64_t eos_token_id = -1;  // <|endoftext|>
  int64_t no_timestamps_token_id = -1;
  std::vector<int64_t> suppress_tokens;        // never generated
  std::vector<int64_t> begin_suppress_tokens;  // not as the first generated token

  // The log-mel frames the encoder takes: two per position (conv2 has stride 2).
  int64_t input_frames() const { return 2 * max_source_positions; }
};

// Parses config.json text; `origin` (its path) is named in every error.
WhisperConfig parse_whisper_config(const std::string& json_text, const std::string& origin);

// Overrides the special tokens with those of generation_config.json text
// (HF's generate reads them there first); sizes are left alone.
void apply_generation_config(WhisperConfig& config, const std::string& json_text, const std::string& origin);

// Overrides the suppression lists with those of a CTranslate2 Whisper
// config.json (suppress_ids, suppress_ids_begin); its other keys (language
// ids, alignment heads) are not used here.
void apply_ct2_config(WhisperConfig& config, const std::string& json_text, const std::string& origin);

}  // namespace medtrain::models::asr
