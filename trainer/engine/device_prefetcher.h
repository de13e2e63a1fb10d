#pragma once
// Keeps the next batch's host-to-device copy in flight while the current step
// computes, so the GPU never waits on PCIe between steps. On CUDA the copy runs
// on a side stream from pinned host memory and the compute stream waits on an
// event; on the CPU batches pass straight through from the loader.
#include <c10/core/Device.h>

#include <memory>
#include <optional>

#include "data/batch_loader.h"

namespace medtrain::engine {

class DevicePrefetcher {
 public:
  DevicePrefetcher(data::BatchLoader& loader, c10::Device device);
  ~DevicePrefetcher();
  DevicePrefetcher(const DevicePrefetcher&) = delete;
  DevicePrefetcher& operator=(const DevicePrefetcher&) = delete;

  // The next batch with images and targets on the device, ready for use on the
  // current stream; nullopt at the end of the epoch. Starts the copy of the
  // batch after it before returning.
  std::optional<data::Batch> next();

 private:
  struct InFlight;
  void start_next();

  data::BatchLoader& loader_;
  c10::Device device_;
  std::unique_ptr<InFlight> in_flight_;
  bool started_ = false;
};

}  // namespace medtrain::engine
