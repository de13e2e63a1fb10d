#include "models/asr/whisper_ct2_model.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "models/asr/whisper_config.h"
#include "models/asr/whisper_ct2_weights.h"
#include "models/asr/whisper_hf_folder.h"
#include "models/model_error.h"

namespace fs = std::filesystem;

namespace medtrain::models::asr {
namespace {

constexpr uint64_t kMaxTextBytes = 16 << 20;

std::string read_text(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw ModelError(file.string() + ": missing (not a CTranslate2 Whisper folder?)");
  // A FIFO or device would block the read or never end it.
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxTextBytes) {
    throw ModelError(file.string() + ": not a regular file of at most 16 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

WhisperConfig config_from(const WhisperDims& d) {
  WhisperConfig c;
  c.vocab_size = d.vocab_size;
  c.num_mel_bins = d.num_mel_bins;
  c.d_model = d.d_model;
  c.encoder_layers = d.encoder_layers;
  c.decoder_layers = d.decoder_layers;
  c.encoder_attention_heads = d.encoder_attention_heads;
  c.decoder_attention_heads = d.decoder_attention_heads;
  c.encoder_ffn_dim = d.encoder_ffn_dim;
  c.decoder_ffn_dim = d.decoder_ffn_dim;
  c.max_source_positions = d.max_source_positions;
  c.max_target_positions = d.max_target_positions;
  return c;
}

// The ids of the special tokens by name; <|endoftext|> is required.
void read_special_ids(const fs::path& file, WhisperConfig& c) {
  std::istringstream lines(read_text(file));
  std::map<std::string, int64_t*> wanted{{"<|endoftext|>", &c.eos_token_id},
                                         {"<|startoftranscript|>", &c.decoder_start_token_id},
                                         {"<|notimestamps|>", &c.no_timestamps_token_id}};
  int64_t id = 0;
  for (std::string line; std::getline(lines, line); ++id) {
    const auto it = wanted.find(line);
    if (it != wanted.end()) *it->second = id;
  }
  if (id != c.vocab_size) {
    throw ModelError(fmt::format("{}: {} tokens, but model.bin's embedding has {} (vocabulary and weights of "
                                 "different models?)",
                                 file.string(), id, c.vocab_size));
  }
  if (c.eos_token_id < 0) throw ModelError(file.string() + ": no <|endoftext|> token");
}

}  // namespace

Ct2Whisper load_ct2_whisper(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw ModelError(dir.string() + ": not a folder (a CTranslate2 Whisper folder)");
  WhisperCt2Weights weights = load_whisper_ct2(dir, torch::kFloat32);
  WhisperConfig config = config_from(weights.dims);
  read_special_ids(dir / "vocabulary.txt", config);
  std::error_code ec;
  if (fs::exists(dir / "config.json", ec)) {
    apply_ct2_config(config, read_text(dir / "config.json"), (dir / "config.json").string());
  }
  Ct2Whisper out;
  if (weights.dequantized) out.notes.push_back("int8/int16 weights dequantized to float32");
  out.model = Whisper(config);
  load_whisper_weights(out.model, std::move(weights.state_dict), (dir / "model.bin").string(), out.notes);
  out.model->eval();
  return out;
}

}  // namespace medtrain::models::asr
