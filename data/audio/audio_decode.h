#pragma once
// Decodes a WAV, FLAC or Ogg (Vorbis, Opus, FLAC) file with libsndfile into
// mono float samples at the file's own rate. Torch-free: the fuzzer builds it.
//
// Only those three containers are handed to libsndfile: the first bytes are
// checked first ("RIFF"/"RIFX"/"RF64", "fLaC", "OggS"), so a file that is not
// audio gets a one-line error instead of a trip through every parser libsndfile
// has. Channels are averaged into one (what ffmpeg's -ac 1 does, and so what
// Whisper's own loader feeds the model). Integer encodings come back scaled to
// [-1, 1) (int16 x / 32768); float encodings as stored.
//
// Errors (DataError, message "<name>: ..."): not one of the three containers;
// an encoding libsndfile cannot decode; a decode error mid-stream; no samples;
// a NaN or infinite sample (the time of the first is named); a rate outside
// [1 kHz, 768 kHz]; more channels than kMaxChannels; longer than
// DecodeLimits::max_seconds. Clipped, silent and truncated audio decode, with
// a one-line warning each in DecodedAudio::warnings (audio_signal_checks.h).
// Truncation is seen where the header's length is kept (FLAC's STREAMINFO);
// for a WAV cut short libsndfile trusts the file size, so it decodes what is
// there without a word.
//
// Threads may decode different files at once; only the reason libsndfile gives
// for a failed open is process-global, so two files failing together may
// swap reasons (never names).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::audio {

constexpr int kMaxChannels = 64;
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;

struct DecodeLimits {
  // Decoded length cap. Dictation is minutes; an hour of 48 kHz mono is 690 MB
  // of floats. A compressed file can expand far beyond its size (a 64 KB FLAC
  // of a constant can hold hours), so the cap is on decoded samples, checked
  // while decoding.
  double max_seconds = 3600.0;
};

struct DecodedAudio {
  std::vector<float> samples;   // mono, sample_rate
  int sample_rate = 0;
  int channels = 0;             // of the source, before averaging
  std::string format;           // "WAV PCM_16", "FLAC PCM_24", "OGG VORBIS", ...
  float peak = 0.0f;            // max |x| over every source sample
  size_t clipped_samples = 0;   // source samples in runs at full scale
  std::vector<std::string> warnings;  // one line each, "<name>: ..."
};

// `name` is used in messages only.
DecodedAudio decode_audio_bytes(const uint8_t* data, size_t size, const std::string& name,
                                const DecodeLimits& limits = {});
// Reads through libsndfile's virtual I/O on a descriptor (no whole-file copy).
DecodedAudio decode_audio_file(const std::string& path, const DecodeLimits& limits = {});

}  // namespace medtrain::data::audio
