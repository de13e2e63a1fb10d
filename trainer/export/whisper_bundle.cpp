#include "trainer/export/whisper_bundle.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <system_error>
#include <utility>

#include "data/io/output_lock.h"
#include "data/io/user_file.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "trainer/asr/whisper_language.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/export/bundle_staging.h"
#include "trainer/export/model_card.h"
#include "trainer/export/onnx/onnx_graph.h"
#include "trainer/export/torch_to_onnx.h"
#include "trainer/export/whisper_to_onnx.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;
using models::asr::WhisperConfig;
using nlohmann::ordered_json;

// The front end medtrain computes (data/audio/log_mel.h, docs/audio.md).
constexpr int64_t kSampleRate = 16000, kNfft = 400, kHop = 160, kChunkSeconds = 30;

void check_out(const fs::path& out, bool overwrite) {
  std::error_code ec;
  const auto status = fs::symlink_status(out, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) throw UserError("--out " + out.string() + ": exists and is not a directory");
    if (is_nonempty_dir(out) && !overwrite) {
      throw UserError("--out " + out.string() + ": exists and is not empty; choose a new folder or pass --overwrite");
    }
  }
  const fs::path parent = fs::absolute(out).lexically_normal().parent_path();
  if (!fs::is_directory(parent, ec)) {
    throw UserError("--out " + out.string() + ": parent folder " + parent.string() + " does not exist");
  }
}

bool inside_or_equal(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

// --overwrite deletes the old --out: it must not hold the folder read from.
void check_out_apart_from_source(const fs::path& out, const fs::path& source) {
  std::error_code ec;
  const fs::path o = fs::weakly_canonical(fs::absolute(out), ec).lexically_normal();
  const fs::path s = fs::weakly_canonical(fs::absolute(source), ec).lexically_normal();
  if (inside_or_equal(s, o)) {
    throw UserError(fmt::format("--out {}: holds the model folder {} being exported; choose another folder",
                                data::io::display_path(out.string()), data::io::display_path(source.string())));
  }
}

// The special ids and suppression lists, as HF's config.json and
// generation_config.json spell them; ids the model does not know are left out.
void special_tokens(ordered_json& j, const WhisperConfig& c) {
  if (c.eos_token_id >= 0) {
    j["bos_token_id"] = c.eos_token_id;  // Whisper's bos and pad are <|endoftext|> too
    j["eos_token_id"] = c.eos_token_id;
    j["pad_token_id"] = c.eos_token_id;
  }
  if (c.decoder_start_token_id >= 0) j["decoder_start_token_id"] = c.decoder_start_token_id;
  if (c.no_timestamps_token_id >= 0) j["no_timestamps_token_id"] = c.no_timestamps_token_id;
  j["suppress_tokens"] = c.suppress_tokens;
  j["begin_suppress_tokens"] = c.begin_suppress_tokens;
}

std::string config_json(const WhisperConfig& c) {
  ordered_json j;
  j["architectures"] = {"WhisperForConditionalGeneration"};
  j["model_type"] = "whisper";
  j["vocab_size"] = c.vocab_size;
  j["num_mel_bins"] = c.num_mel_bins;
  j["d_model"] = c.d_model;
  j["encoder_layers"] = c.encoder_layers;
  j["decoder_layers"] = c.decoder_layers;
  j["encoder_attention_heads"] = c.encoder_attention_heads;
  j["decoder_attention_heads"] = c.decoder_attention_heads;
  j["encoder_ffn_dim"] = c.encoder_ffn_dim;
  j["decoder_ffn_dim"] = c.decoder_ffn_dim;
  j["max_source_positions"] = c.max_source_positions;
  j["max_target_positions"] = c.max_target_positions;
  j["scale_embedding"] = c.scale_embedding;
  j["activation_function"] = "gelu";
  j["dropout"] = c.dropout;
  j["attention_dropout"] = c.attention_dropout;
  j["activation_dropout"] = c.activation_dropout;
  j["tie_word_embeddings"] = true;
  j["use_cache"] = true;
  j["torch_dtype"] = "float32";
  special_tokens(j, c);
  return j.dump(2) + "\n";
}

std::string generation_config_json(const WhisperConfig& c) {
  ordered_json j;
  special_tokens(j, c);
  j["max_length"] = c.max_target_positions;
  j["is_multilingual"] = asr::is_multilingual(c);
  return j.dump(2) + "\n";
}

std::string preprocessor_config_json(const WhisperConfig& c) {
  ordered_json j;
  j["feature_extractor_type"] = "WhisperFeatureExtractor";
  j["feature_size"] = c.num_mel_bins;
  j["sampling_rate"] = kSampleRate;
  j["n_fft"] = kNfft;
  j["hop_length"] = kHop;
  j["chunk_length"] = kChunkSeconds;
  j["n_samples"] = kChunkSeconds * kSampleRate;
  j["nb_max_frames"] = c.input_frames();
  j["padding_side"] = "right";
  j["padding_value"] = 0.0;
  j["return_attention_mask"] = false;
  j["medtrain_padding"] =
      "audio is zero-padded with 480000 samples before the STFT and cut into 3000-frame windows "
      "(openai-whisper's convention; docs/audio.md), not padded with 0.0 in the normalised log-mel";
  return j.dump(2) + "\n";
}

std::string onnx_bytes(OnnxGraph& graph, const std::string& source) {
  graph.metadata = {{"architecture", "whisper"}, {"source", source}};
  return serialize_onnx_model(graph);  // OnnxBuildError is our bug, not the user's: exit 1
}

std::vector<std::string> io_names(const std::vector<OnnxValueInfo>& values) {
  std::vector<std::string> names;
  for (const auto& v : values) names.push_back(v.name);
  return names;
}

std::string card_yaml(const WhisperConfig& c, const WhisperExportOptions& o,
                      const std::vector<std::pair<std::string, OnnxGraph*>>& graphs,
                      const std::map<std::string, std::string>& files) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "format" << YAML::Value << kModelCardFormat;
  y << YAML::Key << "architecture" << YAML::Value << "whisper";
  y << YAML::Key << "task" << YAML::Value << "transcription";
  y << YAML::Key << "whisper" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "vocab_size" << YAML::Value << c.vocab_size << YAML::Key << "num_mel_bins" << YAML::Value
    << c.num_mel_bins << YAML::Key << "d_model" << YAML::Value << c.d_model << YAML::Key << "encoder_layers"
    << YAML::Value << c.encoder_layers << YAML::Key << "decoder_layers" << YAML::Value << c.decoder_layers
    << YAML::Key << "decoder_attention_heads" << YAML::Value << c.decoder_attention_heads << YAML::Key
    << "max_source_positions" << YAML::Value << c.max_source_positions << YAML::Key << "max_target_positions"
    << YAML::Value << c.max_target_positions << YAML::Key << "prompt" << YAML::Value << YAML::Flow
    << std::vector<int64_t>{c.decoder_start_token_id, c.no_timestamps_token_id} << YAML::EndMap;
  y << YAML::Key << "audio" << YAML::Value << YAML::BeginMap << YAML::Key << "sampling_rate" << YAML::Value
    << kSampleRate << YAML::Key << "preprocessor" << YAML::Value << "preprocessor_config.json" << YAML::EndMap;
  if (!graphs.empty()) {
    y << YAML::Key << "onnx" << YAML::Value << YAML::BeginMap << YAML::Key << "opset" << YAML::Value << kOnnxOpset;
    for (const auto& [file, g] : graphs) {
      y << YAML::Key << file << YAML::Value << YAML::BeginMap << YAML::Key << "inputs" << YAML::Value << YAML::Flow
        << io_names(g->inputs) << YAML::Key << "outputs" << YAML::Value << YAML::Flow << io_names(g->outputs)
        << YAML::EndMap;
    }
    y << YAML::EndMap;
  }
  y << YAML::Key << "training" << YAML::Value << YAML::BeginMap << YAML::Key << "source" << YAML::Value << o.source;
  for (const auto& [k, v] : o.provenance) y << YAML::Key << k << YAML::Value << v;
  y << YAML::Key << "medtrain_version" << YAML::Value << kVersion << YAML::EndMap;
  y << YAML::Key << "files" << YAML::Value << files;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace

WhisperExportResult export_whisper_bundle(models::asr::Whisper& model, const std::string& tokenizer_dir,
                                          const fs::path& out, const WhisperExportOptions& o) {
  if (!o.formats.safetensors && !o.formats.onnx) throw UserError("--format: name at least one of safetensors, onnx");
  std::error_code ec;
  const fs::path tokenizer = fs::path(tokenizer_dir) / "tokenizer.json";
  if (!fs::is_regular_file(tokenizer, ec)) {
    throw UserError(fmt::format("{}: no tokenizer.json (a Whisper bundle needs the model's tokenizer)",
                                data::io::display_path(tokenizer_dir)));
  }
  check_out(out, o.overwrite);
  check_out_apart_from_source(out, tokenizer_dir);
  const fs::path out_abs = fs::absolute(out).lexically_normal();
  // Two exports into one --out would each replace the other's bundle.
  const data::io::OutputLock lock(out_abs.parent_path().string(), "export",
                                  "." + out_abs.filename().string() + ".medtrain-export.lock");
  BundleStaging staging(out);
  WhisperExportResult result;
  std::map<std::string, std::string> files;
  auto write = [&](const std::string& name, const std::string& bytes) {
    checkpoint::write_file_synced(staging.dir() / name, bytes);
    files[name] = checkpoint::sha256_hex(bytes);
    result.files.push_back(name);
  };
  const WhisperConfig& c = model->config();
  write("config.json", config_json(c));
  write("generation_config.json", generation_config_json(c));
  write("preprocessor_config.json", preprocessor_config_json(c));
  write("tokenizer.json", checkpoint::read_file(tokenizer));
  const fs::path vocabulary = fs::path(tokenizer_dir) / "vocabulary.txt";
  if (fs::is_regular_file(vocabulary, ec)) write("vocabulary.txt", checkpoint::read_file(vocabulary));
  if (o.formats.safetensors) {
    write(kWeightsFile, models::safetensors_bytes(models::state_dict(*model), {{"format", "pt"}}));
  }
  std::vector<std::pair<std::string, OnnxGraph*>> graphs;
  OnnxGraph encoder, cross_kv, decoder_step;
  if (o.formats.onnx) {
    encoder = whisper_encoder_to_onnx(model);
    cross_kv = whisper_cross_kv_to_onnx(model);
    decoder_step = whisper_decoder_step_to_onnx(model);
    graphs = {{kWhisperEncoderOnnx, &encoder}, {kWhisperCrossKvOnnx, &cross_kv},
              {kWhisperDecoderStepOnnx, &decoder_step}};
    for (auto& [name, g] : graphs) {
      write(name, onnx_bytes(*g, o.source));
      g->initializers.clear();  // the weights are in the file now; model.yaml needs the names only
    }
  }
  checkpoint::write_file_synced(staging.dir() / kModelCardFile, card_yaml(c, o, graphs, files));
  result.files.push_back(kModelCardFile);
  staging.commit();
  return result;
}

}  // namespace medtrain::exporter
