#include "trainer/engine/device_prefetcher.h"

#include <ATen/ATen.h>

#ifdef MEDTRAIN_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace medtrain::engine {

struct DevicePrefetcher::InFlight {
  std::optional<data::Batch> host;    // kept alive until its copy has finished
  std::optional<data::Batch> device;  // what next() hands out
#ifdef MEDTRAIN_WITH_CUDA
  std::optional<at::cuda::CUDAEvent> copied;
#endif
};

DevicePrefetcher::DevicePrefetcher(data::BatchLoader& loader, c10::Device device)
    : loader_(loader), device_(device), in_flight_(std::make_unique<InFlight>()) {}

DevicePrefetcher::~DevicePrefetcher() {
#ifdef MEDTRAIN_WITH_CUDA
  // A copy still running must not outlive the stream's users (device tensors).
  if (in_flight_ && in_flight_->copied) in_flight_->copied->synchronize();
#endif
}

void DevicePrefetcher::start_next() {
  in_flight_ = std::make_unique<InFlight>();
  in_flight_->host = loader_.next();
  if (!in_flight_->host) return;
#ifdef MEDTRAIN_WITH_CUDA
  data::Batch& host = *in_flight_->host;
  c10::cuda::CUDAGuard guard(device_);
  const auto compute = c10::cuda::getCurrentCUDAStream();
  auto side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index());
  data::Batch dev = host;
  {
    c10::cuda::CUDAStreamGuard on_side(side);
    // Unpinned memory would make this copy synchronous (staged through a
    // driver buffer); the loader pins its batches on CUDA runs.
    dev.images = host.images.to(device_, /*non_blocking=*/true);
    dev.targets = host.targets.to(device_, /*non_blocking=*/true);
  }
  // Allocated on the side stream, freed after use on the compute stream: tell
  // the caching allocator, or it may hand the memory out while still in use.
  c10::cuda::CUDACachingAllocator::recordStream(dev.images.storage().data_ptr(), compute);
  c10::cuda::CUDACachingAllocator::recordStream(dev.targets.storage().data_ptr(), compute);
  in_flight_->copied.emplace();
  in_flight_->copied->record(side);
  in_flight_->device = std::move(dev);
#endif
}

std::optional<data::Batch> DevicePrefetcher::next() {
  // On the CPU there is no copy to hide: no read-ahead, so a run that stops
  // early never decodes (or fails on) a batch it will not use.
  if (!device_.is_cuda()) return loader_.next();
  if (!started_) {
    start_next();
    started_ = true;
  }
  auto current = std::move(in_flight_);
#ifdef MEDTRAIN_WITH_CUDA
  if (current->copied) current->copied->block(c10::cuda::getCurrentCUDAStream());
#endif
  auto batch = std::move(current->device);
  if (batch) start_next();  // overlaps with the step that uses `batch`
  // `current`'s pinned host batch may be freed while its copy still runs:
  // LibTorch's pinned-memory allocator records an event with every
  // non-blocking copy and reuses the block only after it fired.
  return batch;
}

}  // namespace medtrain::engine
