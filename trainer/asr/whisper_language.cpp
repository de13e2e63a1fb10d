#include "trainer/asr/whisper_language.h"

#include <fmt/format.h>

#include "data/audio/whisper_tokens.h"
#include "data/data_error.h"
#include "data/io/user_file.h"
#include "models/asr/whisper_greedy.h"
#include "trainer/user_error.h"

namespace medtrain::asr {
namespace {

// openai-whisper's is_multilingual: n_vocab >= 51865 (.en models have 51864).
constexpr int64_t kMultilingualVocab = 51865;

struct Keys {
  const char* language;  // the key that names the language
  const char* model;     // the key that names the model folder
  const char* omit;      // how to give no language
};

Keys keys(LanguageFrom from) {
  if (from == LanguageFrom::kTranscribeFlag) return {"--language", "--model", "leave out --language"};
  return {"data.language", "model.pretrained", "leave data.language empty"};
}

// Whisper's codes are two or three lowercase letters (en, de, haw, yue); the
// check keeps a name such as "transcribe" from finding <|transcribe|>.
bool looks_like_code(const std::string& s) {
  if (s.size() < 2 || s.size() > 3) return false;
  for (const char c : s) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

}  // namespace

bool is_multilingual(const models::asr::WhisperConfig& config) { return config.vocab_size >= kMultilingualVocab; }

std::vector<int64_t> whisper_language_prompt(const WhisperFolder& w, const std::filesystem::path& dir,
                                             const std::string& language, LanguageFrom from) {
  const Keys k = keys(from);
  const std::string model = fmt::format("{} {}", k.model, data::io::display_path(dir.string()));
  const auto& config = w.model->config();
  if (!is_multilingual(config)) {
    if (!language.empty()) {
      throw UserError(fmt::format("{} {}: {} is an English-only (.en) Whisper; {}", k.language, language, model,
                                  k.omit));
    }
    return models::asr::english_prompt(config);
  }
  if (language.empty()) {
    throw UserError(fmt::format("{}: {} is a multilingual Whisper (vocabulary {}): name the language of the audio "
                                "(en, de, fr, ...); language detection is not run",
                                k.language, model, config.vocab_size));
  }
  if (!looks_like_code(language) || w.tokenizer.token_to_id("<|" + language + "|>") < 0) {
    throw UserError(fmt::format("{} {}: not a language of {} (its tokenizer has no <|{}|>); Whisper's codes are "
                                "en, de, fr, es, ...",
                                k.language, language, model, language));
  }
  try {
    return data::audio::whisper_prompt(w.tokenizer, dir.string(), language);
  } catch (const data::DataError& e) {  // no <|transcribe|>: a tokenizer that is not a multilingual Whisper's
    throw UserError(fmt::format("{} {}: {}", k.language, language, e.what()));
  }
}

}  // namespace medtrain::asr
