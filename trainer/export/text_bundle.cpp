#include "trainer/export/text_bundle.h"

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/text/bio_tags.h"
#include "models/model_error.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/engine/heap_reuse.h"
#include "trainer/export/cpu_quota.h"
#include "trainer/export/inference.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEncoderDir = "encoder";
constexpr uint64_t kMaxTokenizerBytes = uint64_t{64} << 20;

// The tokenizer file training read (text_dataset.cpp prefers tokenizer.json).
std::string tokenizer_file(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "tokenizer.json", ec) ? "tokenizer.json" : "vocab.txt";
}

std::string read_source(const fs::path& file) {
  try {
    return data::io::read_user_file(file.string(), "model.pretrained file", kMaxTokenizerBytes);
  } catch (const data::DataError& e) {
    throw UserError(std::string("export: ") + e.what() + " (the run's model.pretrained folder must still hold it)");
  }
}

}  // namespace

void write_text_bundle(const config::Config& cfg, models::ImageModel& model, const fs::path& staging, ModelCard& card,
                       std::vector<std::string>& files) {
  auto write = [&](const std::string& name, const std::string& bytes) {
    checkpoint::write_file_synced(staging / name, bytes);
    card.files[name] = checkpoint::sha256_hex(bytes);
    files.push_back(name);
  };
  const fs::path source(cfg.model.pretrained);
  fs::create_directory(staging / kEncoderDir);
  for (const std::string name : {std::string("config.json"), tokenizer_file(source)}) {
    write(std::string(kEncoderDir) + "/" + name, read_source(source / name));
  }
  write(kWeightsFile, models::safetensors_bytes(models::state_dict(model), {{"format", "pt"}, {"architecture", "bert"}}));
  card.text_max_length = cfg.data.max_length;
  card.in_channels = 1;
  card.labels = card.task == "token_classification" ? data::text::bio_tag_names(cfg.data.label_names)
                                                     : cfg.data.label_names;
}

TextBundle load_text_bundle(const fs::path& dir, const c10::Device& device) {
  TextBundle b;
  b.card = read_model_card(dir);
  if (b.card.text_max_length == 0) {
    throw UserError("--model " + data::io::display_path(dir.string()) + ": an image model, not a text model");
  }
  // Every file listed is checked against its SHA-256 before any is used.
  const fs::path encoder = dir / kEncoderDir;
  for (const auto& entry : b.card.files) {
    if (entry.first != kWeightsFile) (void)read_bundle_file(dir, b.card, entry.first.c_str());
  }
  std::error_code ec;
  const bool json = fs::is_regular_file(encoder / "tokenizer.json", ec);
  try {
    b.tokenizer = std::make_unique<data::text::Tokenizer>(
        json ? data::text::Tokenizer::from_json_file((encoder / "tokenizer.json").string())
             : data::text::Tokenizer::from_vocab_file((encoder / "vocab.txt").string()));
  } catch (const data::DataError& e) {
    throw UserError(std::string("--model ") + dir.string() + ": " + e.what());
  }
  b.tokenizer->set_padding(std::nullopt);
  b.tokenizer->set_truncation(std::nullopt);
  const std::string bytes = read_bundle_file(dir, b.card, kWeightsFile);
  const auto head = b.card.task == "token_classification" ? models::nlu::TextHead::kToken
                                                          : models::nlu::TextHead::kSequence;
  try {
    b.model = models::nlu::create_text_model(encoder, head, b.card.num_classes, /*weights=*/false);
    const auto file = models::parse_safetensors(bytes, (dir / kWeightsFile).string());
    models::load_state_dict(*b.model, file.tensors, {true, {}, (dir / kWeightsFile).string()});
  } catch (const models::ModelError& e) {
    throw UserError("--model " + dir.string() + ": " + e.what());
  }
  if (head == models::nlu::TextHead::kToken) b.tags = b.card.labels;
  b.model->to(device);
  b.model->eval();
  b.device = device;
  cap_threads_to_cpu_quota();
  engine::keep_heap_between_steps();  // Note [Heap kept between steps]
  return b;
}

}  // namespace medtrain::exporter
