#pragma once
// A reference script's recorded forward pass: io.safetensors holding "input"
// and "output" (zoo_reference.py, torchvision_reference.py, unet_reference.py),
// against one of our image models.
#include <torch/torch.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>

#include "models/image_model.h"
#include "models/safetensors.h"

namespace medtrain::testing {

// The tensor called `name`; std::runtime_error when there is none.
inline torch::Tensor find_tensor(const models::NamedTensors& tensors, const std::string& name) {
  for (const auto& [k, v] : tensors) {
    if (k == name) return v;
  }
  throw std::runtime_error("no tensor " + name);
}

// max |ours - ref| / max |ref|
inline double relative_error(const torch::Tensor& ours, const torch::Tensor& ref) {
  return (ours - ref).abs().max().item<double>() / ref.abs().max().item<double>();
}

// relative_error of `model` (put in eval mode, no grad) on dir/io.safetensors'
// input against its output; std::runtime_error naming both shapes when they differ.
inline double reference_error(models::ImageModel& model, const std::filesystem::path& dir) {
  model.eval();
  const auto io = models::load_safetensors(dir / "io.safetensors").tensors;
  torch::NoGradGuard no_grad;
  const torch::Tensor ours = model.forward(find_tensor(io, "input"));
  const torch::Tensor ref = find_tensor(io, "output");
  if (ours.sizes() != ref.sizes()) {
    std::ostringstream s;
    s << "output " << ours.sizes() << ", reference " << ref.sizes();
    throw std::runtime_error(s.str());
  }
  return relative_error(ours, ref);
}

}  // namespace medtrain::testing
