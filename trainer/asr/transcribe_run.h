#pragma once
// `medtrain transcribe`: audio files -> one JSON line each, in input order:
//   {"id", "text", "tokens", "avg_logprob", "duration_s", "time_s"}
// Per input (audio_inputs.h): checked to be a regular file (a FIFO or device
// is refused before any read), decoded and resampled to 16 kHz mono
// (data/audio), cut into successive 30-s log-mel windows (WhisperLogMel::
// windows: window w is frames [3000 w, 3000 w + 3000), the last one filled
// with silence). Each window is decoded on its own (window_decoder.h), as
// Whisper's sequential decoding does without timestamps and without
// conditioning on the previous text (greedy, or beam search with
// --beam-size); no timestamp-based seeking. Windows of
// several inputs share a batch. The text is the tokenizer's decoding of all
// windows' tokens (special tokens skipped), trimmed.
//   tokens       every window's ids, concatenated (no prompt, no <|endoftext|>)
//   avg_logprob  the mean log-probability of those tokens and of each window's
//                <|endoftext|> (Note [Scoring]); null when nothing was decoded
//   duration_s   the audio's length; time_s: the seconds spent on it (reading,
//                features, and its share of each batch it was decoded in)
// Silent audio (peak under -80 dBFS) is not decoded (Whisper invents text for
// silence): its row has empty text, no tokens, avg_logprob null, and a
// warning. --out is written once, atomically, after every input: a failed run
// leaves an existing file as it was.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace medtrain::asr {

struct TranscribeOptions {
  std::filesystem::path model_dir, in, out;
  int64_t batch = 8;            // windows per decoder batch
  int64_t beam_size = 1;        // 1: greedy decoding; more: beam search (window_decoder.h)
  std::string device = "auto";  // auto | cpu | cuda
  std::string language;         // "" for .en models; required for multilingual ones (whisper_language.h)
  bool skip_bad_audio = false;  // a file that cannot be decoded: skip it (counted) instead of failing
};

struct TranscribeSummary {
  size_t inputs = 0, transcribed = 0, silent = 0, windows = 0;
  std::vector<std::string> skipped;   // one line each: why
  std::vector<std::string> warnings;  // one line each: silent, clipped, truncated
  std::vector<std::string> notes;     // from loading the model
  std::string device, layout;
};

// UserError for a bad flag or path (a --language the model does not take or
// needs, whisper_language.h); DataError for audio that cannot be
// decoded (unless skip_bad_audio); ModelError for a model folder that is not
// a supported Whisper.
TranscribeSummary run_transcription(const TranscribeOptions& options);

}  // namespace medtrain::asr
