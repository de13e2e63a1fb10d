#pragma once
// Shared by the Google Benchmarks of scripts/bench/ that a driver script
// configures through the environment (infer_forward_bench,
// text_infer_forward_bench): reading BENCH_* variables, dumping a tensor as .npy for
// the driver's reference to check against, and running one benchmark for a
// fixed number of iterations.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "data/npy_writer.h"

namespace medtrain::bench {

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

inline std::string env_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// float32 .npy (token ids stay exact below 2^24).
inline void write_npy(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
  data::write_npy_f32(path, c.data_ptr<float>(), c.sizes().vec());
}

// Registers `fn` as `name`, `iterations` iterations per repetition in
// milliseconds of real time, and runs it with Google Benchmark's flags.
// Returns main's exit code.
inline int run_benchmark(int argc, char** argv, const char* name, void (*fn)(benchmark::State&), int iterations) {
  benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond)->Iterations(iterations)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace medtrain::bench
