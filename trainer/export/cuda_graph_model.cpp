#include "trainer/export/cuda_graph_model.h"

#include <utility>

#ifdef MEDTRAIN_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/core/InferenceMode.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>
#endif

namespace medtrain::exporter {

#ifdef MEDTRAIN_WITH_CUDA

namespace {

// The first line of an exception's text: the warning stays one line.
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

// torch.cuda.graphs warms up three times (make_graphed_callables' default):
// cuDNN picks its algorithms and lazily built state is built before capture.
constexpr int kWarmups = 3;

// Autocast's cache of low-precision weight copies must be off while capturing
// (torch.cuda.graphs: a copy cached outside the capture would be freed after
// it, under the graph's feet).
class AutocastCacheOff {
 public:
  AutocastCacheOff() : was_(at::autocast::is_autocast_cache_enabled()) { at::autocast::set_autocast_cache_enabled(false); }
  ~AutocastCacheOff() { at::autocast::set_autocast_cache_enabled(was_); }
  AutocastCacheOff(const AutocastCacheOff&) = delete;
  AutocastCacheOff& operator=(const AutocastCacheOff&) = delete;

 private:
  bool was_;
};

// Captures model's forward on `input` (already holding the batch) into a new graph.
std::unique_ptr<at::cuda::CUDAGraph> capture(models::ImageModel& model, const at::Tensor& input,
                                           at::cuda::MempoolId_t pool, at::Tensor& output) {
  const auto current = c10::cuda::getCurrentCUDAStream();
  auto side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, input.device().index());
  at::cuda::CUDAEvent filled;
  filled.record(current);
  filled.block(side);  // the warm-ups read the copied batch
  {
    c10::cuda::CUDAStreamGuard on_side(side);
    for (int i = 0; i < kWarmups; ++i) model.forward(input);
  }
  c10::cuda::device_synchronize();
  auto graph = std::make_unique<at::cuda::CUDAGraph>();
  {
    c10::cuda::CUDAStreamGuard on_side(side);  // capture needs a non-default stream
    AutocastCacheOff no_cache;
    // Thread-local: the loader's decode threads are not bound by this capture.
    graph->capture_begin(pool, cudaStreamCaptureModeThreadLocal);
    try {
      output = model.forward(input);
    } catch (...) {
      try {
        graph->capture_end();  // ends the (now invalid) capture; its error is the one above
      } catch (...) {
      }
      (void)cudaGetLastError();
      throw;
    }
    graph->capture_end();
  }
  at::cuda::CUDAEvent captured;
  captured.record(side);
  captured.block(current);
  return graph;
}

}  // namespace

struct CudaGraphModel::Graphs {
  struct Entry {
    std::vector<int64_t> shape;
    at::Tensor input, output;  // the static buffers the graph reads and writes
    std::unique_ptr<at::cuda::CUDAGraph> graph;
  };
  std::vector<Entry> entries;
  // One memory pool for all shapes: a graph's intermediates are dead once its
  // replay ends and every static buffer stays allocated while its graph lives,
  // so graphs replayed one after another on one stream can reuse each other's
  // intermediates; memory is one forward's, not one per shape.
  at::cuda::MempoolId_t pool{0, 0};
};

CudaGraphModel::CudaGraphModel(std::shared_ptr<models::ImageModel> model, size_t max_shapes)
    : model_(std::move(model)), max_shapes_(max_shapes), graphs_(std::make_unique<Graphs>()) {
  register_module("model", model_);
}

CudaGraphModel::~CudaGraphModel() = default;

size_t CudaGraphModel::graphs() const { return graphs_->entries.size(); }

torch::Tensor CudaGraphModel::forward(torch::Tensor x) {
  // The static buffers are inference tensors: written in place on every call,
  // whatever mode the caller is in.
  c10::InferenceMode inference;
  if (!fallback_.empty() || !x.is_cuda()) return model_->forward(std::move(x));
  c10::cuda::CUDAGuard on_device(x.device());
  for (auto& e : graphs_->entries) {
    if (e.shape == x.sizes() && e.input.scalar_type() == x.scalar_type()) {
      e.input.copy_(x);
      e.graph->replay();
      return e.output.clone();
    }
  }
  if (graphs_->entries.size() >= max_shapes_) return model_->forward(std::move(x));
  Graphs::Entry e;
  e.shape = x.sizes().vec();
  e.input = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  e.input.copy_(x);
  try {
    e.graph = capture(*model_, e.input, graphs_->pool, e.output);
  } catch (const std::exception& err) {
    fallback_ = "CUDA graph capture failed for input " + c10::str(x.sizes()) + ": " + first_line(err.what());
    std::fprintf(stderr, "warning: %s; running the plain forward\n", fallback_.c_str());
    return model_->forward(std::move(x));
  }
  if (graphs_->entries.empty()) graphs_->pool = e.graph->pool();
  e.graph->replay();  // capturing ran nothing: this computes the batch
  at::Tensor out = e.output.clone();
  graphs_->entries.push_back(std::move(e));
  return out;
}

#else  // built without CUDA

struct CudaGraphModel::Graphs {};

CudaGraphModel::CudaGraphModel(std::shared_ptr<models::ImageModel> model, size_t max_shapes)
    : model_(std::move(model)),
      max_shapes_(max_shapes),
      fallback_("medtrain was built without CUDA"),
      graphs_(std::make_unique<Graphs>()) {
  register_module("model", model_);
}

CudaGraphModel::~CudaGraphModel() = default;

size_t CudaGraphModel::graphs() const { return 0; }

torch::Tensor CudaGraphModel::forward(torch::Tensor x) {
  return model_->forward(std::move(x));
}

#endif

}  // namespace medtrain::exporter
