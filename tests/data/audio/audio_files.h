#pragma once
// Audio files for the data/audio tests: encoded by libsndfile's writer (WAV,
// FLAC, Ogg Vorbis of a given signal), or WAV bytes laid out by hand for what a
// writer refuses to make (an unknown encoding tag, NaN samples, a cut file).
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace medtrain::data::testing {

// interleaved: frames * channels samples. format: SF_FORMAT_WAV | SF_FORMAT_PCM_16 ...
inline void write_audio(const std::string& path, int format, int rate, int channels,
                        const std::vector<float>& interleaved) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("write_audio " + path + ": " + sf_strerror(nullptr));
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels);
  const sf_count_t done = sf_writef_float(f, interleaved.data(), frames);
  sf_close(f);
  if (done != frames) throw std::runtime_error("write_audio " + path + ": short write");
}

// Integer samples as stored: 16-bit files get `pcm` as is, 24-bit ones
// pcm << 8 (libsndfile's int API is 32-bit). Read back as float, a sample is
// pcm / 32768 either way, whereas libsndfile's float writer scales by 32767.
inline void write_audio_pcm(const std::string& path, int format, int rate, int channels,
                            const std::vector<int16_t>& pcm) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("write_audio_pcm " + path + ": " + sf_strerror(nullptr));
  std::vector<int> wide(pcm.begin(), pcm.end());
  for (int& v : wide) v *= 65536;  // int API: full scale is 2^31
  const sf_count_t frames = static_cast<sf_count_t>(pcm.size() / channels);
  const sf_count_t done = sf_writef_int(f, wide.data(), frames);
  sf_close(f);
  if (done != frames) throw std::runtime_error("write_audio_pcm " + path + ": short write");
}

// amplitude * sin(2 pi freq t) on every channel (channel c shifted by c * 0.1 rad).
inline std::vector<float> tone(double freq, int rate, double seconds, int channels = 1, double amplitude = 0.5) {
  const size_t frames = static_cast<size_t>(std::lround(seconds * rate));
  std::vector<float> out(frames * channels);
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      out[i * channels + c] = static_cast<float>(amplitude * std::sin(2 * M_PI * freq * i / rate + 0.1 * c));
  return out;
}

inline void put_u16(std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
inline void put_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

// A canonical 44-byte-header WAV (little-endian host): format tag 1 = PCM,
// 3 = IEEE float; `data` holds the sample bytes as they go in the file.
inline std::string wav_bytes(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits, const std::string& data) {
  std::string s = "RIFF";
  put_u32(s, static_cast<uint32_t>(36 + data.size()));
  s += "WAVEfmt ";
  put_u32(s, 16);
  put_u16(s, tag);
  put_u16(s, channels);
  put_u32(s, rate);
  put_u32(s, rate * channels * bits / 8);
  put_u16(s, static_cast<uint16_t>(channels * bits / 8));
  put_u16(s, bits);
  s += "data";
  put_u32(s, static_cast<uint32_t>(data.size()));
  return s + data;
}

inline std::string float_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace medtrain::data::testing
