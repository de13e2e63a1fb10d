#pragma once
// `infer --cuda-graphs`: an image model's forward replayed from CUDA graphs,
// captured once per input shape (torch.cuda.graphs' recipe: warm-up runs on a
// side stream, then capture on it into a static input buffer). A call copies
// its batch into that shape's buffer, replays, and returns a clone of the
// static output, so results never alias one another. A run sees one batch shape
// plus a smaller last one (sliding windows: one window-batch shape plus the
// remainder), so at most `max_shapes` graphs are kept; other shapes run the
// plain forward. If a capture throws (an op that synchronizes with the host, a
// driver without graph support), one warning line goes to stderr and every
// later call runs the plain forward: the run never fails for want of a graph.
//
// Built without CUDA (MEDTRAIN_WITH_CUDA unset) every call is the plain forward.
#include <cstddef>
#include <memory>
#include <string>

#include "models/image_model.h"

namespace medtrain::exporter {

class CudaGraphModel : public models::ImageModel {
 public:
  // `model` on a CUDA device; its forward must depend on nothing but its input
  // (true of the inference graphs and eval-mode models). Inputs not on CUDA
  // run the plain forward.
  explicit CudaGraphModel(std::shared_ptr<models::ImageModel> model, size_t max_shapes = 4);
  ~CudaGraphModel() override;

  torch::Tensor forward(torch::Tensor x) override;

  size_t graphs() const;  // shapes captured so far
  // Why graphs are not used ("" while they are): a capture failed, or no CUDA build.
  const std::string& fallback_reason() const { return fallback_; }

 private:
  struct Graphs;  // CUDA types stay in the .cpp
  std::shared_ptr<models::ImageModel> model_;
  size_t max_shapes_;
  std::string fallback_;
  std::unique_ptr<Graphs> graphs_;
};

}  // namespace medtrain::exporter
