// Forward-only inference throughput of a model bundle, loaded the way
// `medtrain infer` loads it (exporter::load_bundle: model.yaml, checksummed
// model.safetensors, strict load, eval mode) and run the way it runs it
// (NoGradGuard, model->forward on a CPU batch). No DICOM decoding, no
// preprocessing, no output file: only the forward pass, on a fixed batch, so
// that it is like for like with ONNX Runtime and PyTorch eager timing theirs.
// The driver scripts/bench/infer_forward_vs_ort.sh times all three on the
// same batch and weights.
//
// Environment:
//   BENCH_BUNDLE   the bundle folder (required)
//   BENCH_BATCH    batch size (32)
//   BENCH_THREADS  intra-op threads (2)
//   BENCH_ITERS    forwards per repetition (2); --benchmark_repetitions sets the repetitions
//   BENCH_INPUT    if set, the timed batch [B, C, (D,) S, S] (randn, seed 0) is written there as .npy
//   BENCH_LOGITS   if set, medtrain's logits for that batch are written there as .npy
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "scripts/bench/bench_env.h"
#include "trainer/export/inference.h"

namespace {

using medtrain::bench::env_int;
using medtrain::bench::env_str;
using medtrain::bench::write_npy;

struct Fixture {
  medtrain::exporter::LoadedModel loaded;
  torch::Tensor batch;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture out;
    out.loaded = medtrain::exporter::load_bundle(env_str("BENCH_BUNDLE"), c10::Device(c10::kCPU));
    const auto& card = out.loaded.card;
    torch::manual_seed(0);
    std::vector<int64_t> shape = {env_int("BENCH_BATCH", 32), card.in_channels};
    if (card.preprocessing.depth > 0) shape.push_back(card.preprocessing.depth);  // a volume bundle
    shape.insert(shape.end(), {card.preprocessing.image_size, card.preprocessing.image_size});
    out.batch = torch::randn(shape);
    if (!env_str("BENCH_INPUT").empty()) write_npy(env_str("BENCH_INPUT"), out.batch);
    if (!env_str("BENCH_LOGITS").empty()) {
      torch::NoGradGuard no_grad;
      write_npy(env_str("BENCH_LOGITS"), out.loaded.model->forward(out.batch));
    }
    return out;
  }();
  return f;
}

void BM_InferForward(benchmark::State& state) {
  Fixture& f = fixture();
  torch::NoGradGuard no_grad;
  benchmark::DoNotOptimize(f.loaded.model->forward(f.batch));  // warm-up: first-call allocations
  for (auto _ : state) {
    torch::Tensor logits = f.loaded.model->forward(f.batch);
    benchmark::DoNotOptimize(logits.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * f.batch.size(0));
  std::string shape;
  for (int64_t d = 1; d < f.batch.dim(); ++d) shape += (d > 1 ? "x" : "") + std::to_string(f.batch.size(d));
  state.SetLabel(f.loaded.card.architecture + " batch " + std::to_string(f.batch.size(0)) + " " + shape);
}

}  // namespace

int main(int argc, char** argv) {
  if (env_str("BENCH_BUNDLE").empty()) {
    std::fprintf(stderr, "infer_forward_bench: set BENCH_BUNDLE to a bundle folder (medtrain export --out DIR)\n");
    return 2;
  }
  torch::set_num_threads(env_int("BENCH_THREADS", 2));
  try {
    fixture();  // load errors are reported here, once, not inside the benchmark
  } catch (const std::exception& e) {
    std::fprintf(stderr, "infer_forward_bench: %s\n", e.what());
    return 2;
  }
  return medtrain::bench::run_benchmark(argc, argv, "BM_InferForward", BM_InferForward, env_int("BENCH_ITERS", 2));
}
