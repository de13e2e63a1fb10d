#include "trainer/export/gpu_inference.h"

#include <utility>

#include "trainer/engine/autocast.h"
#include "trainer/export/cuda_graph_model.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {

GpuInference choose_gpu_inference(const std::string& precision, const std::string& cuda_graphs,
                                  const c10::Device& device, const std::string& device_reason) {
  if (precision != "fp32" && precision != "bf16" && precision != "fp16") {
    throw UserError("--precision: expected fp32, bf16 or fp16, got \"" + precision + "\"");
  }
  if (cuda_graphs != "auto" && cuda_graphs != "on" && cuda_graphs != "off") {
    throw UserError("--cuda-graphs: expected auto, on or off, got \"" + cuda_graphs + "\"");
  }
  const bool cuda = device.is_cuda();
  if (!cuda && precision != "fp32") {
    throw UserError("--precision " + precision + " needs a CUDA device; this run is on " + device_reason +
                    " (use --precision fp32 on the CPU)");
  }
  if (!cuda && cuda_graphs == "on") {
    throw UserError("--cuda-graphs on needs a CUDA device; this run is on " + device_reason +
                    " (use --cuda-graphs auto or off on the CPU)");
  }
  GpuInference g;
  g.autocast = engine::autocast_dtype(precision);
  g.cuda_graphs = cuda && cuda_graphs != "off";
  g.description = g.autocast ? precision + " autocast" : "fp32";
  if (g.cuda_graphs) g.description += ", CUDA graphs";
  return g;
}

std::shared_ptr<models::ImageModel> gpu_inference_model(std::shared_ptr<models::ImageModel> model,
                                                        const GpuInference& gpu, const c10::Device& device) {
  if (gpu.autocast) model = std::make_shared<AutocastModel>(std::move(model), device.type(), *gpu.autocast);
  if (gpu.cuda_graphs) model = std::make_shared<CudaGraphModel>(std::move(model));
  return model;
}

AutocastModel::AutocastModel(std::shared_ptr<models::ImageModel> model, c10::DeviceType device, c10::ScalarType dtype)
    : model_(std::move(model)), device_(device), dtype_(dtype) {
  register_module("model", model_);
}

torch::Tensor AutocastModel::forward(torch::Tensor x) {
  torch::Tensor logits;
  {
    engine::AutocastGuard autocast(device_, dtype_);
    logits = model_->forward(std::move(x));
  }
  // Softmax, argmax and window blending read float; the cast is outside
  // autocast so it is not itself lowered.
  return logits.to(torch::kFloat);
}

}  // namespace medtrain::exporter
