#pragma once
// A runnable Whisper from a CTranslate2 folder (faster-whisper's layout:
// model.bin, vocabulary.txt, config.json): the weights through
// whisper_ct2_weights.h (HF names), the sizes read off them, the special ids
// (<|endoftext|>, <|startoftranscript|>, <|notimestamps|>) found by name in
// vocabulary.txt (one token per line, line N = id N), and the suppression
// lists from config.json (suppress_ids, suppress_ids_begin). Loaded with the
// same checks as an HF folder (whisper_hf_folder.h).
#include <filesystem>
#include <string>
#include <vector>

#include "models/asr/whisper.h"

namespace medtrain::models::asr {

struct Ct2Whisper {
  Whisper model{nullptr};          // eval mode, CPU, fp32
  std::vector<std::string> notes;  // e.g. int8 weights dequantized
};

// ModelError naming the folder and the problem (no model.bin, a vocabulary.txt
// whose size is not the embedding's or without <|endoftext|>, ...).
Ct2Whisper load_ct2_whisper(const std::filesystem::path& dir);

}  // namespace medtrain::models::asr
