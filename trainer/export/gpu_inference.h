#pragma once
// `infer --precision fp32|bf16|fp16` and `--cuda-graphs auto|on|off`: how the
// image model runs on a GPU. bf16/fp16 run its forward under LibTorch autocast
// (engine/autocast.h) with the logits cast back to float before softmax,
// argmax or blending; CUDA graphs replay the forward per input shape
// (cuda_graph_model.h). Both need a CUDA device: asked of a CPU run they are
// refused, never silently ignored.
#include <c10/core/Device.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <optional>
#include <string>

#include "models/image_model.h"

namespace medtrain::exporter {

struct GpuInference {
  std::optional<c10::ScalarType> autocast;  // nullopt: fp32
  bool cuda_graphs = false;
  std::string description;  // for the summary line: "fp32", "bf16 autocast, CUDA graphs"
};

// The flags against the device the run chose (`device_reason`: choose_device's
// line, quoted in the error). UserError, one line, for bf16/fp16 or
// --cuda-graphs on with a CPU device, or a value that is not one of the above.
GpuInference choose_gpu_inference(const std::string& precision, const std::string& cuda_graphs,
                                  const c10::Device& device, const std::string& device_reason);

// `model` as `gpu` asks: wrapped in autocast, then in CUDA graphs (captured
// with autocast on, since the autocast wrapper is inside); `model` itself for fp32
// without graphs.
std::shared_ptr<models::ImageModel> gpu_inference_model(std::shared_ptr<models::ImageModel> model,
                                                        const GpuInference& gpu, const c10::Device& device);

// The forward of `model` under autocast to `dtype` on `device`; its output cast
// to float. On the CPU only in tests (CPU autocast supports bf16).
class AutocastModel : public models::ImageModel {
 public:
  AutocastModel(std::shared_ptr<models::ImageModel> model, c10::DeviceType device, c10::ScalarType dtype);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  std::shared_ptr<models::ImageModel> model_;
  c10::DeviceType device_;
  c10::ScalarType dtype_;
};

}  // namespace medtrain::exporter
