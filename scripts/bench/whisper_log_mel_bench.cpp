// Whisper's log-mel front end on the production code:
// data::audio::WhisperLogMel::windows (LibTorch STFT, mel matmul, log10,
// normalisation; the [W, 80, 3000] windows transcribe feeds the encoder) on the
// first 30 s and the first 5 s of one 16 kHz WAV, read once before timing.
// Counterpart: scripts/bench/logmel_numpy.py (faster-whisper's NumPy
// FeatureExtractor); the comparison, which also makes the WAV, is
// scripts/bench/logmel_vs_numpy.sh.
//   BENCH_AUDIO=x.wav BENCH_THREADS=1 [BENCH_DUMP=out.npy] whisper_log_mel_bench [--benchmark_* flags]
// BENCH_THREADS: LibTorch intra-op threads (default 1). BENCH_DUMP: the 30-s
// windows written as .npy before timing, for the driver to check against NumPy.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "scripts/bench/bench_env.h"
#include "data/audio/load_audio.h"
#include "data/audio/log_mel.h"

namespace {

namespace audio = medtrain::data::audio;

void bm_windows(benchmark::State& state, const audio::WhisperLogMel* mel, torch::Tensor wave) {
  for (auto _ : state) {
    torch::Tensor w = mel->windows(wave);
    benchmark::DoNotOptimize(w.data_ptr<float>());
  }
  state.counters["audio_s_per_s"] = benchmark::Counter(
      static_cast<double>(wave.numel()) / audio::kWhisperSampleRate, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(torch::get_num_threads()) + " threads");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = medtrain::bench::env_str("BENCH_AUDIO");
  if (path.empty()) {
    std::cerr << "whisper_log_mel_bench: set BENCH_AUDIO to a 16 kHz WAV (see scripts/bench/logmel_vs_numpy.sh)\n";
    return 2;
  }
  torch::set_num_threads(medtrain::bench::env_int("BENCH_THREADS", 1));
  std::vector<float> samples = audio::load_audio_16k(path).samples;  // throws with the decoder's message
  const torch::Tensor all = torch::from_blob(samples.data(), {static_cast<int64_t>(samples.size())}).clone();
  const audio::WhisperLogMel mel;
  const std::string dump = medtrain::bench::env_str("BENCH_DUMP");
  for (const int seconds : {30, 5}) {
    const int64_t n = std::min<int64_t>(all.numel(), int64_t{seconds} * audio::kWhisperSampleRate);
    const torch::Tensor wave = all.narrow(0, 0, n).clone();
    if (seconds == 30 && !dump.empty()) medtrain::bench::write_npy(dump, mel.windows(wave));
    benchmark::RegisterBenchmark(("windows/" + std::to_string(seconds) + "s").c_str(), bm_windows, &mel, wave)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
