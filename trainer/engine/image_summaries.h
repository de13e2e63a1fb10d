#pragma once
// What the model sees, as TensorBoard images (log.images_every_steps,
// log.images_count): the first samples of a training batch exactly as the
// model receives them (after windowing, normalisation and augmentation, mapped
// back to display range), labels in the tag; at each evaluation, validation
// samples with prediction and target; segmentation masks and predictions as
// coloured overlays; volumes as the middle slice of each axis; text tasks as
// text summaries of examples with their predicted labels. Speech: nothing.
// Pictures and tags: summary_pictures.h and docs/training.md ("What the model
// sees").
//
// Main rank only, and only when RunLogger::wants_summaries(): elsewhere every
// call returns at once. A due call copies at most log.images_count samples
// to the CPU (one sync, at that step only) and encodes one PNG: milliseconds.
// A picture that cannot be made (a bug, an unexpected shape) turns the
// summaries off with one message; it never stops the run.
#include <torch/types.h>

#include <cstdint>
#include <exception>
#include <memory>

#include "data/dataset.h"
#include "models/image_model.h"
#include "trainer/config/config.h"
#include "trainer/engine/run_logger.h"
#include "trainer/engine/task.h"
#include "trainer/metrics/display_image.h"

namespace medtrain::engine {

class TextDecoder;

class ImageSummaries {
 public:
  // Does nothing unless `log` wants summaries, log.images_every_steps > 0 and
  // the task is not speech. `total_steps`: the run's length; an
  // images_every_steps set longer than it says so in one line (the first
  // batch is still shown).
  ImageSummaries(const config::Config& cfg, Task task, RunLogger& log, int64_t total_steps);
  ~ImageSummaries();
  // The batch of optimizer step `step` + 1 (x, y as the model gets them, on
  // any device): logged as step `step` + 1 at the first step of this process
  // (the run's first, or the first after a resume) and whenever `step` + 1 is
  // a multiple of log.images_every_steps.
  void train_batch(int64_t step, const torch::Tensor& x, const torch::Tensor& y);
  // After an evaluation at `step`: the first log.images_count samples of
  // `val`, forward through `model` (in eval mode, no grad), with prediction
  // and target.
  void validation(int64_t step, models::ImageModel& model, const data::Dataset& val, c10::Device device);

 private:
  void train_pictures(int64_t step, const torch::Tensor& x, const torch::Tensor& y);
  void train_text(int64_t step, const torch::Tensor& x, const torch::Tensor& y);
  void val_pictures(int64_t step, models::ImageModel& model, const data::Dataset& val, c10::Device device);
  void val_text(int64_t step, models::ImageModel& model, const data::Dataset& val, c10::Device device);
  void turn_off(const std::exception& e);

  const config::Config& cfg_;
  Task task_;
  RunLogger& log_;
  bool on_ = false;
  bool text_ = false;
  bool logged_train_ = false;
  metrics::DisplayRange range_;
  std::unique_ptr<TextDecoder> decoder_;  // text tasks
};

}  // namespace medtrain::engine
