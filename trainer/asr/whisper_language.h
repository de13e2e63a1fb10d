#pragma once
// The language in a Whisper's decoder prompt, checked in one place for
// transcription (--language) and fine-tuning (data.language).
//   English-only (.en) Whisper:  <|startoftranscript|><|notimestamps|>; no language may be named
//   multilingual Whisper:        <|startoftranscript|><|xx|><|transcribe|><|notimestamps|>;
//                                the language must be named: we do not run Whisper's
//                                language detection (a guess per window would silently
//                                switch languages mid-dictation)
// Multilingual is openai-whisper's rule: a vocabulary of 51865 ids or more.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "models/asr/whisper_config.h"
#include "trainer/asr/whisper_folder.h"

namespace medtrain::asr {

// Where the language came from: it decides the keys the errors name.
enum class LanguageFrom {
  kTranscribeFlag,  // medtrain transcribe --model DIR --language xx
  kTrainingConfig,  // model.pretrained DIR, data.language xx
};

bool is_multilingual(const models::asr::WhisperConfig& config);

// The prompt for `language` ("" for .en models) with the model `w` loaded from
// `dir`. UserError, one line naming both keys, for a language given to a .en
// model, none given to a multilingual one, or a code the tokenizer has no
// <|xx|> token for.
std::vector<int64_t> whisper_language_prompt(const WhisperFolder& w, const std::filesystem::path& dir,
                                             const std::string& language, LanguageFrom from);

}  // namespace medtrain::asr
