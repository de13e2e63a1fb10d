// data/audio/audio_decode: each container and encoding decodes to the signal
// written (exactly for PCM and FLAC, within the codec's error for Vorbis), and
// every bad input is one DataError naming the file, or a warning.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "data/audio/audio_decode.h"
#include "data/data_error.h"
#include "tests/common/temp_dir.h"
#include "tests/data/audio/audio_files.h"

namespace medtrain::data::audio {
namespace {

using medtrain::testing::TempDir;
using namespace medtrain::data::testing;

std::vector<int16_t> pcm_tone(int rate, double seconds, int channels) {
  std::vector<int16_t> out;
  for (float x : tone(440.0, rate, seconds, channels)) out.push_back(static_cast<int16_t>(std::lround(x * 32767.0f)));
  return out;
}

std::vector<float> as_float(const std::vector<int16_t>& pcm) {
  std::vector<float> out;
  for (int16_t v : pcm) out.push_back(static_cast<float>(v) / 32768.0f);
  return out;
}

std::vector<float> mono_mean(const std::vector<float>& interleaved, int channels) {
  std::vector<float> out(interleaved.size() / channels);
  for (size_t i = 0; i < out.size(); ++i) {
    float sum = 0;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    out[i] = sum / channels;
  }
  return out;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

std::string error_of(const std::string& path, const DecodeLimits& limits = {}) {
  try {
    decode_audio_file(path, limits);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AudioDecode, LosslessFormatsRoundTripExactly) {
  TempDir dir;
  struct Case {
    const char* name;
    int format;
    const char* label;
  } cases[] = {{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, "WAV"},
               {"b.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, "WAV"},
               {"c.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, "WAV"},
               {"d.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "FLAC"},
               {"e.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, "FLAC"}};
  const std::vector<int16_t> pcm = pcm_tone(22050, 0.5, 1);
  const std::vector<float> signal = as_float(pcm);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    if ((c.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT) write_audio(dir.str(c.name), c.format, 22050, 1, signal);
    else write_audio_pcm(dir.str(c.name), c.format, 22050, 1, pcm);
    const DecodedAudio d = decode_audio_file(dir.str(c.name));
    EXPECT_EQ(d.sample_rate, 22050);
    EXPECT_EQ(d.channels, 1);
    EXPECT_NE(d.format.find(c.label), std::string::npos) << d.format;
    EXPECT_EQ(max_abs_diff(d.samples, signal), 0.0f);
    EXPECT_TRUE(d.warnings.empty());
  }
}

TEST(AudioDecode, StereoIsAveragedToMono) {
  TempDir dir;
  const std::vector<int16_t> stereo = pcm_tone(48000, 0.25, 2);
  write_audio_pcm(dir.str("s.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, stereo);
  const DecodedAudio d = decode_audio_file(dir.str("s.flac"));
  EXPECT_EQ(d.channels, 2);
  EXPECT_EQ(max_abs_diff(d.samples, mono_mean(as_float(stereo), 2)), 0.0f);
}

TEST(AudioDecode, OggVorbisWithinCodecError) {
  TempDir dir;
  const std::vector<float> signal = tone(440.0, 44100, 1.0, 1);
  write_audio(dir.str("v.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 1, signal);
  const DecodedAudio d = decode_audio_file(dir.str("v.ogg"));
  EXPECT_EQ(d.format, "OGG (OGG Container format), Vorbis");
  ASSERT_EQ(d.samples.size(), signal.size());
  // Lossy: signal-to-error ratio above 30 dB on a pure tone.
  double err = 0, sig = 0;
  for (size_t i = 0; i < signal.size(); ++i) {
    err += (d.samples[i] - signal[i]) * (d.samples[i] - signal[i]);
    sig += signal[i] * signal[i];
  }
  EXPECT_GT(10 * std::log10(sig / err), 30.0);
}

TEST(AudioDecode, BytesAndFileAgree) {
  TempDir dir;
  write_audio_pcm(dir.str("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, pcm_tone(16000, 0.1, 1));
  std::ifstream in(dir.str("a.wav"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const DecodedAudio a = decode_audio_file(dir.str("a.wav"));
  const DecodedAudio b = decode_audio_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem");
  EXPECT_EQ(a.samples, b.samples);
}

TEST(AudioDecodeBadInput, NotAudio) {
  TempDir dir;
  write_bytes(dir.str("notes.wav"), "Findings: no pleural effusion.\n");
  EXPECT_EQ(error_of(dir.str("notes.wav")),
            dir.str("notes.wav") + ": not audio (expected a WAV, FLAC or Ogg file; it starts with 0x46696e64)");
  write_bytes(dir.str("empty.wav"), "");
  EXPECT_EQ(error_of(dir.str("empty.wav")), dir.str("empty.wav") + ": empty file (0 bytes), not audio");
  // AIFF is audio libsndfile reads, but not one of ours.
  write_audio(dir.str("a.aiff"), SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, tone(440, 16000, 0.1));
  EXPECT_NE(error_of(dir.str("a.aiff")).find(": not audio (expected a WAV, FLAC or Ogg"), std::string::npos);
  // RIFF magic and nothing else.
  write_bytes(dir.str("riff.wav"), "RIFF\x10\x00\x00\x00garbagegarbage");
  EXPECT_NE(error_of(dir.str("riff.wav")).find(dir.str("riff.wav") + ": cannot decode: "), std::string::npos);
  EXPECT_NE(error_of(dir.str("missing.wav")).find(dir.str("missing.wav") + ": cannot open: "), std::string::npos);
  EXPECT_EQ(error_of(dir.str()), dir.str() + ": not a regular file");
  // A FIFO with no writer: refused at once, never waited on.
  ASSERT_EQ(::mkfifo(dir.str("pipe.wav").c_str(), 0600), 0);
  EXPECT_EQ(error_of(dir.str("pipe.wav")), dir.str("pipe.wav") + ": not a regular file");
}

TEST(AudioDecodeBadInput, UnsupportedEncoding) {
  TempDir dir;
  // WAVE format tag 0x1234: no codec has it.
  write_bytes(dir.str("odd.wav"), wav_bytes(0x1234, 1, 16000, 16, std::string(3200, '\0')));
  const std::string e = error_of(dir.str("odd.wav"));
  EXPECT_EQ(e.rfind(dir.str("odd.wav") + ": cannot decode: ", 0), 0u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(AudioDecodeBadInput, ZeroLength) {
  TempDir dir;
  write_bytes(dir.str("zero.wav"), wav_bytes(1, 1, 16000, 16, ""));
  EXPECT_EQ(error_of(dir.str("zero.wav")), dir.str("zero.wav") + ": no audio samples (WAV (Microsoft), Signed 16 bit PCM, zero length)");
  // libsndfile writes a FLAC of no frames as no bytes at all.
  write_audio_pcm(dir.str("zero.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, {});
  EXPECT_EQ(error_of(dir.str("zero.flac")), dir.str("zero.flac") + ": empty file (0 bytes), not audio");
}

TEST(AudioDecodeBadInput, NanAndInfSamples) {
  TempDir dir;
  std::vector<float> v = tone(440, 16000, 0.1);
  v[800] = NAN;
  write_bytes(dir.str("nan.wav"), wav_bytes(3, 1, 16000, 32, float_bytes(v)));
  EXPECT_EQ(error_of(dir.str("nan.wav")), dir.str("nan.wav") + ": NaN sample at 0.050 s (channel 0): the audio is corrupt");
  v[800] = 0.0f;
  v[1599] = -INFINITY;
  std::vector<float> stereo;
  for (float x : v) stereo.insert(stereo.end(), {0.0f, x});
  write_bytes(dir.str("inf.wav"), wav_bytes(3, 2, 16000, 32, float_bytes(stereo)));
  EXPECT_EQ(error_of(dir.str("inf.wav")), dir.str("inf.wav") + ": infinite sample at 0.100 s (channel 1): the audio is corrupt");
  v[1600 - 1] = 3e30f;  // finite, but the resampler's sums would overflow
  write_bytes(dir.str("huge.wav"), wav_bytes(3, 1, 16000, 32, float_bytes(v)));
  EXPECT_EQ(error_of(dir.str("huge.wav")),
            dir.str("huge.wav") + ": sample 3e+30 at 0.100 s (channel 0) is over 10000 times full scale: the audio is corrupt");
}

TEST(AudioDecodeBadInput, TooLong) {
  TempDir dir;
  write_audio(dir.str("long.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, tone(440, 8000, 2.0));
  DecodeLimits limits;
  limits.max_seconds = 1.5;
  EXPECT_EQ(error_of(dir.str("long.wav"), limits), dir.str("long.wav") + ": longer than the 1.5 s limit");
}

TEST(AudioDecodeWarnings, SilentAndClipped) {
  TempDir dir;
  write_audio(dir.str("silent.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, std::vector<float>(16000, 0.0f));
  const DecodedAudio s = decode_audio_file(dir.str("silent.wav"));
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0], dir.str("silent.wav") + ": silent (peak -inf dBFS)");

  // A tone driven 3x past full scale: flat tops.
  std::vector<float> hot = tone(200, 16000, 0.5, 1, 3.0);
  for (float& x : hot) x = std::max(-1.0f, std::min(1.0f, x));
  write_audio(dir.str("hot.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, hot);
  const DecodedAudio h = decode_audio_file(dir.str("hot.wav"));
  EXPECT_GT(h.clipped_samples, hot.size() / 2);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].rfind(dir.str("hot.wav") + ": clipped (", 0), 0u) << h.warnings[0];
  EXPECT_EQ(h.samples.size(), hot.size());  // still decoded

  // A loud clean tone touches full scale without runs: no warning.
  write_audio(dir.str("loud.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(1000, 16000, 0.5, 1, 0.9999));
  EXPECT_TRUE(decode_audio_file(dir.str("loud.wav")).warnings.empty());

}

TEST(AudioDecodeBadInput, CutShort) {
  TempDir dir;
  // A WAV whose data chunk promises 16000 frames and holds 8000: what is there.
  const std::string bytes = wav_bytes(1, 1, 16000, 16, std::string(32000, '\x10'));
  write_bytes(dir.str("cut.wav"), bytes.substr(0, 44 + 16000));
  EXPECT_EQ(decode_audio_file(dir.str("cut.wav")).samples.size(), 8000u);
  // A FLAC cut in half: the whole frames before the cut, and a warning
  // (STREAMINFO still says 16000).
  write_audio_pcm(dir.str("a.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, pcm_tone(16000, 1.0, 1));
  std::ifstream in(dir.str("a.flac"), std::ios::binary);
  const std::string flac((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_bytes(dir.str("cut.flac"), flac.substr(0, flac.size() / 2));
  const DecodedAudio c = decode_audio_file(dir.str("cut.flac"));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], fmt::format("{}: truncated (header declares 16000 frames, {} decoded)", dir.str("cut.flac"),
                                       c.samples.size()));
  EXPECT_LT(c.samples.size(), 16000u);
  EXPECT_GT(c.samples.size(), 0u);
}

}  // namespace
}  // namespace medtrain::data::audio
