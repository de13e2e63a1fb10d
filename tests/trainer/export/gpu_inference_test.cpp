// `infer --precision` and `--cuda-graphs` (trainer/export/gpu_inference.h,
// cuda_graph_model.h). Here, always: the flags against the device (CPU
// refusals, what a CUDA device gets), and the autocast wrapper on the CPU
// (bf16: CPU autocast exists, the CLI only refuses it). With a CUDA device
// (skipped with the reason otherwise): a tiny resnet18 inference graph (random
// weights, 64x64) replayed from CUDA graphs equals its plain forward, and
// bf16/fp16 autocast stays near fp32.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "models/cv/inference_graph.h"
#include "models/registry.h"
#include "trainer/export/cuda_graph_model.h"
#include "trainer/export/gpu_inference.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

const char* kCpuReason = "device cpu (run.device=cpu)";

void expect_user_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << n << " not in: " << what;
  }
}

// Largest logit difference relative to the reference's logit range.
double range_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double range = (want.max() - want.min()).item<double>();
  return (got.to(torch::kFloat) - want).abs().max().item<double>() / range;
}

std::shared_ptr<medtrain::models::ImageModel> tiny_resnet(const c10::Device& device) {
  torch::manual_seed(3);
  auto model = medtrain::models::create_model({"resnet18", 10, 1});
  model->to(device);
  model->eval();
  return model;
}

TEST(ChooseGpuInference, LowPrecisionOnTheCpuIsRefusedNamingTheDevice) {
  for (const char* p : {"bf16", "fp16"}) {
    expect_user_error([&] { choose_gpu_inference(p, "auto", torch::kCPU, kCpuReason); },
                      {std::string("--precision ") + p, "needs a CUDA device", kCpuReason});
  }
  expect_user_error([&] { choose_gpu_inference("fp32", "on", torch::kCPU, kCpuReason); },
                    {"--cuda-graphs on", "needs a CUDA device", kCpuReason});
  expect_user_error([&] { choose_gpu_inference("fp8", "auto", torch::kCPU, kCpuReason); }, {"--precision", "fp8"});
  expect_user_error([&] { choose_gpu_inference("fp32", "yes", torch::kCPU, kCpuReason); }, {"--cuda-graphs", "yes"});
}

TEST(ChooseGpuInference, CpuRunsFp32WithoutGraphsAndTheModelUnwrapped) {
  for (const char* graphs : {"auto", "off"}) {
    const GpuInference g = choose_gpu_inference("fp32", graphs, torch::kCPU, kCpuReason);
    EXPECT_FALSE(g.autocast);
    EXPECT_FALSE(g.cuda_graphs);
    EXPECT_EQ(g.description, "fp32");
    auto model = tiny_resnet(torch::kCPU);
    EXPECT_EQ(gpu_inference_model(model, g, torch::kCPU), model);
  }
}

// No device is touched: what a CUDA run would get.
TEST(ChooseGpuInference, CudaGetsAutocastAndGraphsAsAsked) {
  const c10::Device cuda(c10::kCUDA, 0);
  GpuInference g = choose_gpu_inference("bf16", "auto", cuda, "device cuda:0");
  EXPECT_EQ(g.autocast, c10::ScalarType::BFloat16);
  EXPECT_TRUE(g.cuda_graphs);
  EXPECT_EQ(g.description, "bf16 autocast, CUDA graphs");
  g = choose_gpu_inference("fp16", "off", cuda, "device cuda:0");
  EXPECT_EQ(g.autocast, c10::ScalarType::Half);
  EXPECT_FALSE(g.cuda_graphs);
  EXPECT_EQ(g.description, "fp16 autocast");
  g = choose_gpu_inference("fp32", "on", cuda, "device cuda:0");
  EXPECT_FALSE(g.autocast);
  EXPECT_TRUE(g.cuda_graphs);
}

// The wrapper really lowers the forward (the result moves) and hands back float.
TEST(AutocastModel, Bf16OnTheCpuIsNearFp32AndReturnsFloat) {
  auto model = tiny_resnet(torch::kCPU);
  const torch::Tensor x = torch::randn({4, 1, 64, 64});
  torch::NoGradGuard no_grad;
  const torch::Tensor want = model->forward(x);
  AutocastModel bf16(model, c10::kCPU, c10::ScalarType::BFloat16);
  const torch::Tensor got = bf16.forward(x);
  EXPECT_EQ(got.scalar_type(), torch::kFloat);
  EXPECT_FALSE(torch::equal(got, want)) << "autocast did not change the forward";
  EXPECT_LT(range_error(got, want), 2e-2);
  // Autocast is off again after the call.
  EXPECT_TRUE(torch::equal(model->forward(x), want));
}

TEST(CudaGraphModel, CpuInputsRunThePlainForward) {
  auto model = tiny_resnet(torch::kCPU);
  CudaGraphModel graphs(model);
  const torch::Tensor x = torch::randn({2, 1, 64, 64});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(graphs.forward(x), model->forward(x)));
  EXPECT_EQ(graphs.graphs(), 0u);
}

// ---- with a CUDA device ----

#define SKIP_WITHOUT_CUDA()                                                                                       \
  if (!torch::cuda::is_available())                                                                               \
  GTEST_SKIP() << "no CUDA device: CUDA graph replay and GPU autocast not run (docs/export.md#gpu-inference)"

std::shared_ptr<medtrain::models::ImageModel> tiny_graph_on_cuda() {
  const c10::Device cuda(c10::kCUDA, 0);
  return medtrain::models::inference_graph(tiny_resnet(cuda), "resnet18", cuda).model;
}

// Two batch shapes (a run's full and last batch), each replayed with new
// inputs: a static buffer left stale, or an output aliased, fails here.
TEST(CudaGraphModel, ReplayEqualsThePlainForwardForEachShapeAndInput) {
  SKIP_WITHOUT_CUDA();
  auto plain = tiny_graph_on_cuda();
  CudaGraphModel graphs(plain);
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> kept;  // (input, what the graph returned)
  for (int round = 0; round < 3; ++round) {
    for (int64_t batch : {4, 3}) {
      const torch::Tensor x = torch::randn({batch, 1, 64, 64}, torch::kCUDA);
      const torch::Tensor got = graphs.forward(x);
      const torch::Tensor want = plain->forward(x);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LT(range_error(got, want), 1e-5) << "round " << round << ", batch " << batch;
      kept.emplace_back(x, got);
    }
  }
  EXPECT_EQ(graphs.graphs(), 2u) << graphs.fallback_reason();
  EXPECT_TRUE(graphs.fallback_reason().empty()) << graphs.fallback_reason();
  // Every earlier result still holds its own input's logits.
  for (const auto& [x, got] : kept) EXPECT_LT(range_error(got, plain->forward(x)), 1e-5);
  // Different inputs gave different logits (a graph replaying one batch would not).
  EXPECT_FALSE(torch::equal(kept[0].second, kept[2].second));
}

// The forward under bf16 / fp16 autocast, plain and from a graph, against
// fp32. Tolerance: bf16 keeps 8 mantissa bits (relative rounding 2^-9, about
// 2e-3 per op); cuDNN accumulates in fp32, so over resnet18's ~20 layers the
// error grows like a random walk, well under 2e-2 of the logit range. The
// result must also differ from fp32 (autocast really on).
TEST(CudaGraphModel, AutocastStaysNearFp32) {
  SKIP_WITHOUT_CUDA();
  const c10::Device cuda(c10::kCUDA, 0);
  auto plain = tiny_graph_on_cuda();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({32, 1, 64, 64}, torch::kCUDA);
  const torch::Tensor want = plain->forward(x);
  for (const char* precision : {"bf16", "fp16"}) {
    for (const char* graphs : {"off", "on"}) {
      const GpuInference gpu = choose_gpu_inference(precision, graphs, cuda, "device cuda:0");
      auto wrapped = gpu_inference_model(plain, gpu, cuda);
      const std::string what = std::string(precision) + ", graphs " + graphs;
      for (int call = 0; call < 2; ++call) {  // with graphs: the capture, then a replay
        const torch::Tensor got = wrapped->forward(x);
        EXPECT_EQ(got.scalar_type(), torch::kFloat);
        EXPECT_FALSE(torch::equal(got, want)) << what << ": autocast did not change the forward";
        EXPECT_LT(range_error(got, want), 2e-2) << what << ", call " << call;
        const double agree = got.argmax(1).eq(want.argmax(1)).to(torch::kFloat).mean().item<double>();
        EXPECT_GE(agree, 0.9) << what << ": argmax agreement with fp32";
      }
      const auto* g = dynamic_cast<const CudaGraphModel*>(wrapped.get());
      if (std::string(graphs) == "off") {
        EXPECT_EQ(g, nullptr) << what;
      } else {
        ASSERT_NE(g, nullptr) << what;
        EXPECT_EQ(g->graphs(), 1u) << g->fallback_reason();
      }
    }
  }
}

}  // namespace
}  // namespace medtrain::exporter
