#pragma once
// A Whisper model folder's tokenizer and the special tokens of its prompt,
// found by name, for the two sides that need them: transcription
// (trainer/asr/whisper_folder.cpp) and fine-tuning data (speech_dataset.h).
// Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "data/text/tokenizer.h"

namespace medtrain::data::audio {

// tokenizer.json plus, when present, vocabulary.txt (CTranslate2 folders: it
// must agree with tokenizer.json on every id both know, and adds the timestamp
// tokens). DataError naming the folder when tokenizer.json is missing, or the
// file and field when it is malformed.
text::Tokenizer load_whisper_tokenizer(const std::string& dir);

struct WhisperTokens {
  int64_t sot = -1;            // <|startoftranscript|>
  int64_t eot = -1;            // <|endoftext|>
  int64_t no_timestamps = -1;  // <|notimestamps|>
  int64_t transcribe = -1;     // <|transcribe|>; -1 in .en tokenizers that lack it
};

// DataError naming `dir` when <|startoftranscript|>, <|endoftext|> or
// <|notimestamps|> is missing (not a Whisper tokenizer).
WhisperTokens whisper_tokens(const text::Tokenizer& tokenizer, const std::string& dir);

// The decoder prompt openai-whisper trains with, without timestamps:
//   language ""   <|startoftranscript|><|notimestamps|>            (.en models)
//   language "de" <|startoftranscript|><|de|><|transcribe|><|notimestamps|>
// DataError naming `dir` when <|de|> or <|transcribe|> is missing (the
// tokenizer is not a multilingual model's).
std::vector<int64_t> whisper_prompt(const text::Tokenizer& tokenizer, const std::string& dir,
                                    const std::string& language);

}  // namespace medtrain::data::audio
