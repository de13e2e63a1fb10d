#pragma once
// Text models in bundles (issue 14): what `medtrain export` writes for a run
// with data.dataset text, and what `medtrain infer` and `medtrain deid
// --text-model` load back. A text bundle holds
//   DIR/model.safetensors        the BertTaskModel state dict (bert.*, classifier.*)
//   DIR/encoder/config.json      the Hugging Face config the encoder was built from
//   DIR/encoder/tokenizer.json   or vocab.txt: the tokenizer training used
//   DIR/model.yaml               task, labels, text.max_length, SHA-256 of every file
// so that it runs without the training config or the Hugging Face folder.
#include <c10/core/Device.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/text/tokenizer.h"
#include "models/nlu/text_model.h"
#include "trainer/config/config.h"
#include "trainer/export/model_card.h"

namespace medtrain::exporter {

// Writes the encoder files and model.safetensors of `model` into `staging`,
// recording each file's SHA-256 in card.files and its name in `files`; sets
// the card's text fields. UserError when model.pretrained no longer holds the
// tokenizer or config.json the run was trained with.
void write_text_bundle(const config::Config& cfg, models::ImageModel& model, const std::filesystem::path& staging,
                       ModelCard& card, std::vector<std::string>& files);

struct TextBundle {
  ModelCard card;
  std::shared_ptr<models::nlu::BertTaskModel> model;  // eval mode, on `device`
  std::unique_ptr<data::text::Tokenizer> tokenizer;   // truncation and padding off
  std::vector<std::string> tags;                      // token_classification: BIO tag names
  c10::Device device{c10::kCPU};
};

// Reads and verifies (SHA-256) every file of a text bundle; UserError naming
// the file at fault, or saying that the bundle is not a text model.
TextBundle load_text_bundle(const std::filesystem::path& dir, const c10::Device& device);

}  // namespace medtrain::exporter
