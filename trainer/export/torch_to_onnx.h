#pragma once
// LibTorch image model -> OnnxGraph (trainer/export/onnx/onnx_graph.h).
//
// One converter for every architecture: the model's forward is traced with
// LibTorch's tracer (torch::jit::tracer) on a zero batch, and the traced aten
// ops are mapped one by one to ONNX operators (aten_to_onnx.cpp and
// aten_ops_spatial.cpp hold the table). Parameters and buffers become
// initializers named like the model's state dict ("layer1.0.conv1.weight"),
// so the ONNX file can be compared with model.safetensors by name. A model
// that uses an op outside the table is a UserError naming the op, the model
// and the ops that are supported.
//
// The graph has one input "input" float32 [batch, C, S, S], or
// [batch, C, D, S, S] when spec.depth > 0 (batch symbolic: any size), and two
// outputs of the same shape, by task:
//   multiclass    "logits" [batch, K], "probabilities" = softmax over K
//   multilabel    "logits" [batch, K], "probabilities" = elementwise sigmoid
//   segmentation  "logits" [batch, K, (D,) S, S], "probabilities" = softmax
//                 over the class axis 1 (per pixel / voxel)
#include <cstdint>
#include <string>

#include "models/image_model.h"
#include "trainer/export/onnx/onnx_graph.h"

namespace medtrain::exporter {

constexpr int64_t kOnnxOpset = 17;
constexpr const char* kOnnxInput = "input";
constexpr const char* kOnnxLogits = "logits";
constexpr const char* kOnnxProbabilities = "probabilities";

constexpr const char* kTaskMulticlass = "multiclass";
constexpr const char* kTaskMultilabel = "multilabel";
constexpr const char* kTaskSegmentation = "segmentation";

struct OnnxExportSpec {
  std::string architecture;  // for messages ("resnet18")
  int64_t in_channels = 1;
  int64_t image_size = 64;   // S
  int64_t num_classes = 2;   // K
  std::string task = kTaskMulticlass;  // multiclass | multilabel | segmentation
  int64_t depth = 0;         // D: 0 = 2-D input [N, C, S, S]; > 0 = 3-D input [N, C, D, S, S]
};

// UserError naming the field when `spec` is not one the exporter can build
// (unknown task, negative depth, sizes < 1).
void check_export_spec(const OnnxExportSpec& spec);

// Traces `model` on CPU in eval mode. Afterwards the model is left in eval
// mode with requires_grad off on every parameter (the tracer bakes tensors
// that require grad in as errors, not constants); export uses a model built
// for the purpose. UserError when the spec is invalid, the forward fails on
// the spec's input shape, the output's rank does not fit the task, or an op
// has no mapping.
OnnxGraph image_model_to_onnx(models::ImageModel& model, const OnnxExportSpec& spec);

}  // namespace medtrain::exporter
