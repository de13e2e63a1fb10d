#pragma once
// Measured accelerator utilization, MLPerf Storage style: the real loader
// (BatchLoader, its worker threads and prefetch window) reads the samples
// while the "accelerator" is emulated by sleeping compute_ms per batch.
//     AU = total emulated compute time / wall time of the run
// Wall time starts before the first batch is requested, so the loader's
// start-up is charged, as MLPerf charges it. One process = one accelerator.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "data/dataset.h"

namespace medtrain::data::io {

struct SimulationOptions {
  LoaderOptions loader;       // batch_size, workers, prefetch_batches, on_error, seed; epoch is set per epoch
  double compute_ms = 0;
  size_t epochs = 1;
  double max_seconds = 0;     // stop after the batch that crosses this; 0 = run all epochs
  // Sample order of an epoch (the training sampler's); empty = every index,
  // shuffled per epoch from loader.seed.
  std::function<std::vector<size_t>(int64_t epoch)> order;
};

struct SimulationResult {
  size_t batches = 0;
  size_t samples = 0;
  double wall_s = 0;
  double compute_s = 0;
  double wait_s = 0;          // time spent in loader.next()
  double first_wait_s = 0;    // of which waiting for each epoch's first batch (start-up: buffers fill)
  double au = 0;              // compute_s / wall_s
  double samples_per_s = 0;
  std::vector<double> epoch_au;  // per epoch, same formula
};

SimulationResult simulate_training(std::shared_ptr<const Dataset> dataset, const SimulationOptions& options);

}  // namespace medtrain::data::io
