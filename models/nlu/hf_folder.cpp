#include "models/nlu/hf_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "models/model_error.h"
#include "models/pretrained/hf_folder_files.h"
#include "models/pretrained/weight_file.h"
#include "models/state_dict.h"

namespace fs = std::filesystem;

namespace medtrain::models::nlu {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The encoder's tensors under BertModel names; task heads and the legacy
// position_ids buffer are left out and counted.
NamedTensors encoder_tensors(NamedTensors tensors, std::vector<std::string>& notes) {
  NamedTensors kept;
  int heads = 0, prefixed = 0;
  for (auto& [name, t] : tensors) {
    std::string key = name;
    if (starts_with(key, "bert.")) {
      key = key.substr(5);
      ++prefixed;
    }
    if (key == "embeddings.position_ids") continue;  // a buffer in transformers < 4.31, computed here
    if (!starts_with(key, "embeddings.") && !starts_with(key, "encoder.") && !starts_with(key, "pooler.")) {
      ++heads;
      continue;
    }
    kept.emplace_back(key, t);
  }
  if (prefixed) notes.push_back(fmt::format("took {} tensors from under \"bert.\"", prefixed));
  if (heads) notes.push_back(fmt::format("left out {} tensors of a task head (not part of the encoder)", heads));
  return kept;
}

void check_vocab(const fs::path& dir, const BertConfig& c) {
  const fs::path file = dir / "vocab.txt";
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  // A FIFO or device would block the read below or never end it.
  if (!fs::is_regular_file(file, ec)) throw ModelError(file.string() + ": not a regular file");
  std::ifstream in(file);
  int64_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  if (lines != c.vocab_size) {
    throw ModelError(fmt::format("{}: {} entries, but config.json has vocab_size {} (tokenizer and weights of "
                                 "different models?)",
                                 (dir / "vocab.txt").string(), lines, c.vocab_size));
  }
}

}  // namespace

BertConfig read_hf_bert_config(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw ModelError(dir.string() + ": not a folder (a Hugging Face model folder)");
  const fs::path config_file = dir / "config.json";
  const BertConfig config = parse_bert_config(pretrained::read_hf_config_text(config_file), config_file.string());
  check_vocab(dir, config);
  return config;
}

HfBert load_hf_bert(const fs::path& dir, bool keep_pooler) {
  const BertConfig config = read_hf_bert_config(dir);
  HfBert out;
  out.weights_file = pretrained::hf_weights_file(dir);
  auto file = pretrained::read_weight_file(out.weights_file);
  out.notes = file.notes;
  NamedTensors tensors = encoder_tensors(std::move(file.tensors), out.notes);
  if (!keep_pooler) {
    const size_t before = tensors.size();
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [](const auto& kv) { return starts_with(kv.first, "pooler."); }),
                  tensors.end());
    if (tensors.size() != before) out.notes.push_back("left out the pooler (the task head does not use it)");
  }
  bool pooler = false;
  for (const auto& [k, v] : tensors) pooler = pooler || starts_with(k, "pooler.");
  out.model = BertModel(config, pooler);
  // Strict: every missing or unexpected name and every shape that config.json
  // does not explain is listed in one error.
  load_state_dict(*out.model, tensors, {true, {}, out.weights_file.string() + " with " + (dir / "config.json").string()});
  out.model->eval();
  return out;
}

}  // namespace medtrain::models::nlu
