// What the reducer's gradient layout costs a CPU training step: ResNet-50 in
// channels_last, the data-parallel step the trainer runs (reducer zero_grad,
// begin_backward, forward, backward, finish, AdamW), with gradient views that
// follow the parameters' strides (now) or are plain contiguous (before: a
// channels_last weight got an NCHW gradient). A one-rank loopback stands in
// for the network, so only the layout differs. Small images and a few steps:
//   flock /tmp/medtrain-build.lock build/bench/reducer_layout_bench \
//     --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// BENCH_FUSED_OPT=1 uses FusedAdamW (on the CPU its reference loop), whose
// multi-tensor lists copy every gradient that is not in its parameter's layout.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "models/registry.h"
#include "trainer/config/config.h"
#include "trainer/dist/gradient_reducer.h"
#include "trainer/engine/optimizer_factory.h"

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

class DoneWork : public medtrain::dist::Work {
 public:
  bool test() override { return true; }
  void wait() override {}
};

// One rank: every collective is the identity.
class Loopback : public medtrain::dist::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "loopback"; }
  std::shared_ptr<medtrain::dist::Work> allreduce_async(at::Tensor&, medtrain::dist::ReduceOp) override {
    return std::make_shared<DoneWork>();
  }
  void broadcast(at::Tensor&, int) override {}
  at::Tensor allgather(const at::Tensor& t) override { return t; }
  void barrier() override {}
};

void BM_ResNet50ChannelsLastStep(benchmark::State& state) {
  const bool follow_strides = state.range(0) != 0;
  const int batch = env_int("BENCH_BATCH", 8), size = env_int("BENCH_SIZE", 64);
  torch::set_num_threads(env_int("BENCH_THREADS", 2));
  torch::manual_seed(0);
  auto model = medtrain::models::create_model({"resnet50", 2, 3});
  model->train();
  for (auto& p : model->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  medtrain::dist::GradientReducer::NamedParams params;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  Loopback comm;
  medtrain::dist::ReducerOptions options;
  options.grads_follow_strides = follow_strides;
  medtrain::dist::GradientReducer reducer(std::move(params), comm, options);
  medtrain::config::OptimConfig cfg;
  cfg.lr = 1e-4;
  auto opt = medtrain::engine::make_optimizer(cfg, *model, env_int("BENCH_FUSED_OPT", 0) != 0);
  const auto x = torch::randn({batch, 3, size, size}).contiguous(at::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 2, {batch});
  auto step = [&] {
    reducer.zero_grad();
    reducer.begin_backward(true);
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    reducer.finish();
    opt->step();
    return loss.item<float>();
  };
  // Untimed: the first steps allocate (optimizer state, oneDNN primitives).
  for (int i = 0; i < 2; ++i) step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(follow_strides ? "grads follow strides" : "contiguous grads (before)");
}
BENCHMARK(BM_ResNet50ChannelsLastStep)
    ->ArgName("follow_strides")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
