#pragma once
// `medtrain transcribe --model DIR`: a Whisper model folder in either layout,
// with its tokenizer.
//   CTranslate2 (faster-whisper's):  model.bin, vocabulary.txt, tokenizer.json (config.json optional)
//   Hugging Face:                    config.json, model.safetensors or pytorch_model.bin,
//                                    tokenizer.json (generation_config.json and
//                                    vocabulary.txt optional)
// model.bin decides: a folder with one is read as CTranslate2. The tokenizer
// is tokenizer.json plus, when present, vocabulary.txt (which must agree with
// it on every id both know, and adds the timestamp tokens); its <|endoftext|>
// must be the model's eos id, so a tokenizer of another model is refused.
// English-only (.en) and multilingual models alike; the language their prompt
// names is checked by whisper_language.h.
#include <filesystem>
#include <string>
#include <vector>

#include "data/text/tokenizer.h"
#include "models/asr/whisper.h"

namespace medtrain::asr {

struct WhisperFolder {
  models::asr::Whisper model{nullptr};  // eval mode, CPU, fp32
  data::text::Tokenizer tokenizer;
  std::string layout;                   // "CTranslate2" or "Hugging Face"
  std::vector<std::string> notes;       // what loading did (int8 dequantized, a tied proj_out dropped)
};

// UserError when DIR is missing; ModelError (or DataError for the tokenizer
// files) naming the folder and the problem otherwise.
WhisperFolder load_whisper_folder(const std::filesystem::path& dir);

}  // namespace medtrain::asr
