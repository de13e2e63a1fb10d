#include "trainer/asr/whisper_folder.h"

#include <fmt/format.h>

#include <system_error>
#include <utility>

#include "data/audio/whisper_tokens.h"
#include "data/io/user_file.h"
#include "models/asr/whisper_ct2_model.h"
#include "models/asr/whisper_hf_folder.h"
#include "models/model_error.h"
#include "trainer/user_error.h"

namespace medtrain::asr {
namespace {

namespace fs = std::filesystem;
using data::text::Tokenizer;
using models::ModelError;

bool has(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

std::string shown(const fs::path& dir) { return data::io::display_path(dir.string()); }

Tokenizer load_tokenizer(const fs::path& dir) {
  if (!has(dir, "tokenizer.json")) {
    throw ModelError(fmt::format("--model {}: no tokenizer.json (the model's tokens cannot be turned into text)",
                                 shown(dir)));
  }
  return data::audio::load_whisper_tokenizer(dir.string());
}

void check_supported(const WhisperFolder& w, const fs::path& dir) {
  const auto& c = w.model->config();
  const int32_t eos = w.tokenizer.token_to_id("<|endoftext|>");
  if (eos != c.eos_token_id) {
    throw ModelError(fmt::format("--model {}: tokenizer.json's <|endoftext|> is id {} but the model's is {}: "
                                 "the tokenizer belongs to another model",
                                 shown(dir), eos, c.eos_token_id));
  }
}

}  // namespace

WhisperFolder load_whisper_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UserError("--model " + shown(dir) + ": no such folder");
  models::asr::Whisper model{nullptr};
  std::vector<std::string> notes;
  std::string layout;
  if (has(dir, "model.bin")) {
    auto ct2 = models::asr::load_ct2_whisper(dir);
    model = ct2.model;
    notes = std::move(ct2.notes);
    layout = "CTranslate2";
  } else if (has(dir, "config.json") && (has(dir, "model.safetensors") || has(dir, "pytorch_model.bin"))) {
    auto hf = models::asr::load_hf_whisper(dir);
    model = hf.model;
    notes = std::move(hf.notes);
    layout = "Hugging Face";
  } else {
    throw ModelError(fmt::format("--model {}: not a Whisper model folder (expected model.bin, vocabulary.txt and "
                                 "tokenizer.json (CTranslate2), or config.json, model.safetensors and tokenizer.json "
                                 "(Hugging Face))",
                                 shown(dir)));
  }
  WhisperFolder w{model, load_tokenizer(dir), layout, std::move(notes)};
  check_supported(w, dir);
  return w;
}

}  // namespace medtrain::asr
