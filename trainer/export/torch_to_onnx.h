#pragma once
// LibTorch image classifier -> OnnxGraph (trainer/export/onnx/onnx_graph.h).
//
// One converter for every architecture: the model's forward is traced with
// LibTorch's tracer (torch::jit::tracer) on a zero batch, and the traced aten
// ops are mapped one by one to ONNX operators (aten_to_onnx.cpp holds the
// table). Parameters and buffers become initializers named like the model's
// state dict ("layer1.0.conv1.weight"), so the ONNX file can be compared with
// model.safetensors by name. A model that uses an op outside the table is a
// UserError naming the op, the model and the ops that are supported.
//
// The graph has one input "input" float32 [batch, C, S, S] (batch symbolic:
// any size) and two outputs, "logits" [batch, K] and "probabilities"
// (softmax over the classes) [batch, K].
#include <cstdint>
#include <string>

#include "models/image_model.h"
#include "trainer/export/onnx/onnx_graph.h"

namespace medtrain::exporter {

constexpr int64_t kOnnxOpset = 17;
constexpr const char* kOnnxInput = "input";
constexpr const char* kOnnxLogits = "logits";
constexpr const char* kOnnxProbabilities = "probabilities";

struct OnnxExportSpec {
  std::string architecture;  // for messages ("resnet18")
  int64_t in_channels = 1;
  int64_t image_size = 64;
  int64_t num_classes = 2;
};

// Traces `model` on CPU in eval mode. Afterwards the model is left in eval
// mode with requires_grad off on every parameter (the tracer bakes tensors
// that require grad in as errors, not constants); export uses a model built
// for the purpose.
OnnxGraph image_model_to_onnx(models::ImageModel& model, const OnnxExportSpec& spec);

}  // namespace medtrain::exporter
