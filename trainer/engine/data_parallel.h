#pragma once
// Everything one rank does differently when it is not alone: the backend, the
// agreement checks and weight broadcast before step 1, the gradient reducer
// (and SyncBatchNorm's own communicator), and the one small all-reduce per
// step that carries the loss, the data wait and the stop flag. The loop talks
// to this and never to MPI or NCCL directly.
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "models/image_model.h"
#include "trainer/config/config.h"
#include "trainer/dist/communicator.h"
#include "trainer/dist/gradient_reducer.h"
#include "trainer/dist/world.h"

namespace medtrain::engine {

class DataParallel {
 public:
  // nullptr when the world has one rank. Collective across ranks. The model
  // must be complete (weights, layout, frozen parameters): the reducer is
  // built for its trainable parameters as they are now. fused_epilogue: the
  // reducer scales and checks each bucket (KernelChoice::bucket_epilogue).
  static std::unique_ptr<DataParallel> setup(const config::Config& cfg, const dist::World& world,
                                             const std::string& host, c10::Device device,
                                             models::ImageModel& model, const std::string& config_yaml,
                                             bool fused_epilogue = false);

  void zero_grad() { reducer_->zero_grad(); }
  // The synced micro-step first checks that the model still has the
  // parameters the reducer was built for (one walk over them per step).
  void begin_backward(bool last_micro_step);
  // loss_scale: the GradScaler's current scale (1 without fp16).
  void finish_backward(double loss_scale) { reducer_->finish(loss_scale); }
  // True when finish_backward() left the gradients unscaled and found_inf()
  // says whether any is inf/NaN: the GradScaler must not unscale again.
  bool unscales_gradients() const { return reducer_->unscales_gradients(); }
  const at::Tensor& found_inf() const { return reducer_->found_inf(); }
  dist::ReducerStats last_stats() const { return reducer_->last_stats(); }
  std::vector<std::string> unused_parameters() const { return reducer_->unused_parameters(); }
  size_t bucket_count() const { return reducer_->bucket_count(); }

  // Rank 0's buffers (batch-norm running statistics) to every rank.
  void sync_buffers(models::ImageModel& model);
  // Element-wise sum over ranks (float64), one collective.
  std::vector<double> sum(const std::vector<double>& values);
  dist::Communicator& comm() { return *comm_; }

 private:
  DataParallel() = default;
  c10::Device device_{c10::kCPU};
  models::ImageModel* model_ = nullptr;
  std::unique_ptr<dist::Communicator> comm_;
  std::unique_ptr<dist::Communicator> bn_comm_;
  std::unique_ptr<dist::GradientReducer> reducer_;
};

}  // namespace medtrain::engine
