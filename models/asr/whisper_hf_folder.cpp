#include "models/asr/whisper_hf_folder.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "models/model_error.h"
#include "models/pretrained/hf_folder_files.h"
#include "models/pretrained/weight_file.h"
#include "models/state_dict.h"

namespace fs = std::filesystem;

namespace medtrain::models::asr {
namespace {

constexpr const char* kProjOut = "proj_out.weight";
constexpr const char* kTokenEmbedding = "model.decoder.embed_tokens.weight";
constexpr const char* kEncoderPositions = "model.encoder.embed_positions.weight";
// fp16 storage rounds the sinusoid by up to 2^-12 (values in [-1, 1]); a
// trained or foreign table differs by far more.
constexpr double kSinusoidTolerance = 1e-3;

const torch::Tensor* find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [k, v] : tensors) {
    if (k == name) return &v;
  }
  return nullptr;
}

// Whisper has no output projection of its own; a file that stores one (tied
// weights written twice) is accepted when it is the token embedding.
void drop_tied_output(NamedTensors& tensors, const std::string& origin, std::vector<std::string>& notes) {
  const torch::Tensor* out = find(tensors, kProjOut);
  if (out == nullptr) return;
  const torch::Tensor* embedding = find(tensors, kTokenEmbedding);
  if (embedding == nullptr || !out->sizes().equals(embedding->sizes()) ||
      !torch::equal(out->to(torch::kFloat), embedding->to(torch::kFloat))) {
    throw ModelError(origin + ": " + kProjOut + " differs from " + kTokenEmbedding +
                     "; Whisper ties its output projection to the token embedding (untied weights are not supported)");
  }
  tensors.erase(std::find_if(tensors.begin(), tensors.end(), [](const auto& kv) { return kv.first == kProjOut; }));
  notes.push_back(std::string("dropped ") + kProjOut + " (equal to the tied token embedding)");
}

// Done after the strict load, whose shape errors come first and list everything.
void check_sinusoid(Whisper& model, const std::string& origin) {
  const auto& stored = model->model()->encoder->positions();
  const auto expected = whisper_sinusoids(stored.size(0), stored.size(1)).to(stored.device());
  const double diff = (stored.detach().to(torch::kFloat) - expected).abs().max().item<double>();
  if (!(diff <= kSinusoidTolerance)) {
    throw ModelError(fmt::format("{}: {} is not Whisper's sinusoid (max difference {:.3g}); foreign or corrupted "
                                 "weights",
                                 origin, kEncoderPositions, diff));
  }
}

}  // namespace

WhisperConfig read_hf_whisper_config(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw ModelError(dir.string() + ": not a folder (a Hugging Face Whisper folder)");
  const fs::path config_file = dir / "config.json";
  WhisperConfig config = parse_whisper_config(pretrained::read_hf_config_text(config_file), config_file.string());
  const fs::path generation = dir / "generation_config.json";
  std::error_code ec;
  if (fs::exists(generation, ec)) {
    apply_generation_config(config, pretrained::read_hf_config_text(generation), generation.string());
  }
  return config;
}

void load_whisper_weights(Whisper& model, NamedTensors tensors, const std::string& origin,
                          std::vector<std::string>& notes) {
  drop_tied_output(tensors, origin, notes);
  load_state_dict(*model, tensors, {true, {}, origin});
  check_sinusoid(model, origin);
}

HfWhisper load_hf_whisper(const fs::path& dir) {
  const WhisperConfig config = read_hf_whisper_config(dir);
  HfWhisper out;
  out.weights_file = pretrained::hf_weights_file(dir);
  auto file = pretrained::read_weight_file(out.weights_file);
  out.notes = file.notes;
  out.model = Whisper(config);
  load_whisper_weights(out.model, std::move(file.tensors),
                       out.weights_file.string() + " with " + (dir / "config.json").string(), out.notes);
  out.model->eval();
  return out;
}

}  // namespace medtrain::models::asr
