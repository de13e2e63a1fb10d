#include "data/audio/whisper_tokens.h"

#include <filesystem>
#include <system_error>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::audio {
namespace {

namespace fs = std::filesystem;

bool has(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

int64_t find(const text::Tokenizer& t, const std::string& token) { return t.token_to_id(token); }

}  // namespace

text::Tokenizer load_whisper_tokenizer(const std::string& dir) {
  const fs::path d(dir);
  if (!has(d, "tokenizer.json")) {
    throw DataError(io::display_path(dir) + ": no tokenizer.json (a Whisper model folder has one)");
  }
  text::Tokenizer t = text::Tokenizer::from_json_file((d / "tokenizer.json").string());
  if (has(d, "vocabulary.txt")) t.add_vocabulary_file((d / "vocabulary.txt").string());
  return t;
}

WhisperTokens whisper_tokens(const text::Tokenizer& tokenizer, const std::string& dir) {
  WhisperTokens w;
  w.sot = find(tokenizer, "<|startoftranscript|>");
  w.eot = find(tokenizer, "<|endoftext|>");
  w.no_timestamps = find(tokenizer, "<|notimestamps|>");
  w.transcribe = find(tokenizer, "<|transcribe|>");
  std::string missing;
  if (w.sot < 0) missing += " <|startoftranscript|>";
  if (w.eot < 0) missing += " <|endoftext|>";
  if (w.no_timestamps < 0) missing += " <|notimestamps|>";
  if (!missing.empty()) {
    throw DataError(io::display_path(dir) + ": the tokenizer lacks Whisper's special tokens" + missing +
                    " (not a Whisper model's tokenizer)");
  }
  return w;
}

std::vector<int64_t> whisper_prompt(const text::Tokenizer& tokenizer, const std::string& dir,
                                    const std::string& language) {
  const WhisperTokens w = whisper_tokens(tokenizer, dir);
  if (language.empty()) return {w.sot, w.no_timestamps};
  const int64_t lang = find(tokenizer, "<|" + language + "|>");
  if (lang < 0 || w.transcribe < 0) {
    throw DataError(io::display_path(dir) + ": language \"" + language + "\": the tokenizer has no <|" + language +
                    "|>" + (w.transcribe < 0 ? " and no <|transcribe|>" : "") +
                    ": not a multilingual Whisper model's tokenizer, or not a language code Whisper knows "
                    "(leave data.language empty for .en models)");
  }
  return {w.sot, lang, w.transcribe, w.no_timestamps};
}

}  // namespace medtrain::data::audio
