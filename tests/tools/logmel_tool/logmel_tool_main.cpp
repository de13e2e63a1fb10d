// logmel_tool: drives data/audio from the Python parity test (a test tool, not
// a medtrain subcommand).
//   logmel_tool --in speech.wav [--native N.npy] [--wave W.npy] [--frames F.npy]
//               [--windows X.npy] [--device cuda] [--n-mels 80]
//   logmel_tool --filters FB.npy [--n-mels 80]
// --native: the decoded mono samples at the file's rate; --wave: resampled to
// 16 kHz; --frames: WhisperLogMel::frames [n_mels, T]; --windows: [W, n_mels,
// 3000]. Prints one JSON line: source rate, channels, format, samples, warnings.
// A data error is one line on stderr and exit status 2.
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/audio/audio_decode.h"
#include "data/audio/load_audio.h"
#include "data/audio/log_mel.h"
#include "data/audio/resample.h"
#include "data/npy_writer.h"

namespace audio = medtrain::data::audio;

namespace {

std::vector<int64_t> shape_of(const torch::Tensor& t) { return t.sizes().vec(); }

void write_tensor(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  medtrain::data::write_npy_f32(path, c.data_ptr<float>(), shape_of(c));
}

void write_samples(const std::string& path, const std::vector<float>& s) {
  medtrain::data::write_npy_f32(path, s.data(), {static_cast<int64_t>(s.size())});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"data/audio front end (test tool)"};
  std::string in, native, wave, frames, windows, filters, device = "cpu";
  int64_t n_mels = 80;
  app.add_option("--in", in, "audio file (WAV, FLAC, Ogg)");
  app.add_option("--native", native, "write decoded mono samples at the source rate (.npy)");
  app.add_option("--wave", wave, "write the 16 kHz mono waveform (.npy)");
  app.add_option("--frames", frames, "write the clip's log-mel frames (.npy)");
  app.add_option("--windows", windows, "write the 30-s log-mel windows (.npy)");
  app.add_option("--filters", filters, "write the mel filterbank (.npy)");
  app.add_option("--device", device, "cpu or cuda");
  app.add_option("--n-mels", n_mels, "80 or 128");
  CLI11_PARSE(app, argc, argv);
  try {
    const audio::WhisperLogMel mel(torch::Device(device), n_mels);
    if (!filters.empty()) write_tensor(filters, mel.filters());
    if (in.empty()) return 0;
    const audio::DecodedAudio decoded = audio::decode_audio_file(in);
    if (!native.empty()) write_samples(native, decoded.samples);
    const std::vector<float> samples =
        audio::resample_mono(decoded.samples, decoded.sample_rate, audio::kWhisperSampleRate, in);
    if (!wave.empty()) write_samples(wave, samples);
    const torch::Tensor x = torch::from_blob(const_cast<float*>(samples.data()),
                                             {static_cast<int64_t>(samples.size())}, torch::kFloat32);
    if (!frames.empty()) write_tensor(frames, mel.frames(x));
    if (!windows.empty()) write_tensor(windows, mel.windows(x));
    nlohmann::json info = {{"source_rate", decoded.sample_rate}, {"channels", decoded.channels},
                           {"format", decoded.format},         {"samples", samples.size()},
                           {"peak", decoded.peak},             {"clipped", decoded.clipped_samples},
                           {"warnings", decoded.warnings}};
    std::cout << info.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "logmel_tool: " << e.what() << "\n";
    return 2;
  }
}
