#pragma once
// What the model sees, as TensorBoard images (log.images_every_steps,
// log.images_count): the first samples of a training batch exactly as the
// model receives them (after windowing, normalisation and augmentation, mapped
// back to display range), labels in the tag; at each evaluation, validation
// samples with prediction and target; segmentation masks and predictions as
// coloured overlays; volumes as the middle slice of each axis; text tasks as
// text summaries of examples with their predicted labels.
#include <torch/types.h>

#include <cstdint>

#include "data/dataset.h"
#include "models/image_model.h"
#include "trainer/config/config.h"
#include "trainer/engine/run_logger.h"
#include "trainer/engine/task.h"

namespace medtrain::engine {

class ImageSummaries {
 public:
  // Does nothing unless `log` wants summaries and log.images_every_steps > 0.
  ImageSummaries(const config::Config& cfg, Task task, RunLogger& log);
  // The batch of optimizer step `step` + 1 (x, y as the model gets them, on
  // any device): logged at the first step of the run and whenever `step` is a
  // multiple of log.images_every_steps.
  void train_batch(int64_t step, const torch::Tensor& x, const torch::Tensor& y);
  // After an evaluation at `step`: the first log.images_count samples of
  // `val`, forward through `model` (in eval mode, no grad), with prediction
  // and target.
  void validation(int64_t step, models::ImageModel& model, const data::Dataset& val, c10::Device device);

 private:
  const config::Config& cfg_;
  Task task_;
  RunLogger& log_;
  bool on_ = false;
};

}  // namespace medtrain::engine
