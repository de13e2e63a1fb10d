#include "data/io/au_simulation.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <thread>

namespace medtrain::data::io {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

SimulationResult simulate_training(std::shared_ptr<const Dataset> dataset, const SimulationOptions& o) {
  SimulationResult r;
  const auto compute = std::chrono::duration<double, std::milli>(o.compute_ms);
  const auto t0 = Clock::now();
  bool out_of_time = false;
  for (size_t epoch = 0; epoch < std::max<size_t>(o.epochs, 1) && !out_of_time; ++epoch) {
    std::vector<size_t> order;
    if (o.order) {
      order = o.order(static_cast<int64_t>(epoch));
    } else {
      order.resize(dataset->size());
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 rng(o.loader.seed * 1000003 + epoch);
      std::shuffle(order.begin(), order.end(), rng);
    }
    LoaderOptions lo = o.loader;
    lo.drop_last = true;  // a full batch per step, as MLPerf counts steps
    lo.epoch = static_cast<int64_t>(epoch);
    const auto e0 = Clock::now();
    double epoch_compute = 0;
    {
      BatchLoader loader(dataset, std::move(order), lo);
      bool loader_first = true;
      for (;;) {
        const auto w0 = Clock::now();
        auto batch = loader.next();
        r.wait_s += since(w0);
        if (batch && loader_first) r.first_wait_s += since(w0);
        loader_first = false;
        if (!batch) break;
        const auto c0 = Clock::now();
        std::this_thread::sleep_for(compute);  // the emulated accelerator
        epoch_compute += since(c0);
        ++r.batches;
        r.samples += static_cast<size_t>(batch->images.size(0));
        if (o.max_seconds > 0 && since(t0) >= o.max_seconds) {
          out_of_time = true;
          break;
        }
      }
    }  // the loader's threads are joined inside the epoch's wall time
    r.compute_s += epoch_compute;
    const double epoch_wall = since(e0);
    r.epoch_au.push_back(epoch_wall > 0 ? epoch_compute / epoch_wall : 0);
  }
  r.wall_s = since(t0);
  r.au = r.wall_s > 0 ? r.compute_s / r.wall_s : 0;
  r.samples_per_s = r.wall_s > 0 ? static_cast<double>(r.samples) / r.wall_s : 0;
  return r;
}

}  // namespace medtrain::data::io
