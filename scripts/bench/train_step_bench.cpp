// Training-step throughput of medtrain's ResNet-18 + AdamW on in-memory data,
// the same step the quickstart runs (batch 32, 1x64x64, cross-entropy). Its
// twin in PyTorch eager is scripts/bench/train_step_pytorch.py; the driver
// scripts/bench/quickstart_vs_pytorch.sh runs both and reports the ratio.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "models/registry.h"
#include "trainer/config/config.h"
#include "trainer/engine/heap_reuse.h"
#include "trainer/engine/optimizer_factory.h"

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

void BM_ResNet18TrainStep(benchmark::State& state) {
  const int batch = env_int("BENCH_BATCH", 32), size = env_int("BENCH_SIZE", 64);
  torch::set_num_threads(env_int("BENCH_THREADS", 2));
  medtrain::engine::keep_heap_between_steps();  // as `medtrain train` does
  torch::manual_seed(0);
  auto model = medtrain::models::create_model({"resnet18", 2, 1});
  model->train();
  medtrain::config::OptimConfig cfg;
  cfg.lr = 2e-3;
  auto opt = medtrain::engine::make_optimizer(cfg, *model);
  auto x = torch::randn({batch, 1, size, size});
  auto y = torch::randint(0, 2, {batch});
  for (auto _ : state) {
    opt->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt->step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ResNet18TrainStep)->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0)->MinTime(5.0);

}  // namespace

BENCHMARK_MAIN();
