#pragma once
// The model zoo: every architecture medtrain can build, by name. `medtrain
// models` prints this table; the trainer builds models only through it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/image_model.h"

namespace medtrain::models {

struct ModelRequest {
  std::string name;
  int64_t num_classes = 2;
  int64_t in_channels = 1;
};

struct ModelInfo {
  std::string name;
  std::string family;       // e.g. "ResNet"
  std::string task;         // "classification" (logits [N, classes]) | "segmentation" (logits [N, classes, *spatial])
  std::string input;        // e.g. "[N, C, H, W] float32, H,W >= 32"
  std::string pretrained;   // public weights whose names load unchanged
};

const std::vector<ModelInfo>& model_zoo();

// ModelError naming the unknown model and the known ones.
std::shared_ptr<ImageModel> create_model(const ModelRequest& request);

int64_t parameter_count(const torch::nn::Module& module);

}  // namespace medtrain::models
