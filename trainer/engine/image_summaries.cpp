#include "trainer/engine/image_summaries.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/text/bio_tags.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/summary_pictures.h"
#include "trainer/engine/text_summary.h"

namespace medtrain::engine {
namespace {

// The first n samples of a batch, detached, on the CPU.
torch::Tensor head(const torch::Tensor& t, int64_t n) {
  return t.detach().narrow(0, 0, std::min<int64_t>(n, t.size(0))).to(torch::kCPU);
}

// The first `n` samples of the val split that decode. Under data.on_error:
// skip a sample that does not is left out here too (the evaluation counts it);
// under fail the evaluation has already stopped the run.
std::vector<data::Sample> first_samples(const data::Dataset& val, int64_t n) {
  std::vector<data::Sample> out;
  for (size_t i = 0; i < val.size() && static_cast<int64_t>(out.size()) < n; ++i) {
    try {
      out.push_back(val.get(i, /*rng_seed=*/0));  // val is not augmented: the seed changes nothing
    } catch (const data::DataError&) {
    }
  }
  return out;
}

}  // namespace

ImageSummaries::ImageSummaries(const config::Config& cfg, Task task, RunLogger& log, int64_t total_steps)
    : cfg_(cfg), task_(task), log_(log) {
  const int64_t every = cfg.log.images_every_steps;
  on_ = log.wants_summaries() && every > 0 && task != Task::kSpeech;
  if (!on_) return;
  text_ = is_text(cfg);
  range_ = {cfg.data.mean, cfg.data.std};
  if (text_) {
    decoder_ = std::make_unique<TextDecoder>(cfg);
    if (!decoder_->note().empty()) log.message(decoder_->note());
  }
  // Only a value the user chose: the default would say this on every short run.
  if (every > total_steps && every != config::LogConfig{}.images_every_steps) {
    log.message(fmt::format("log.images_every_steps {} is more than the run's {} steps: only the first training "
                            "batch is shown",
                            every, total_steps));
  }
}

ImageSummaries::~ImageSummaries() = default;

void ImageSummaries::turn_off(const std::exception& e) {
  on_ = false;
  log_.message(fmt::format("image summaries (log.images_every_steps) turned off: {}", e.what()));
}

void ImageSummaries::train_batch(int64_t step, const torch::Tensor& x, const torch::Tensor& y) {
  if (!on_) return;
  const int64_t s = step + 1;  // the step this batch trains, as train/loss counts
  if (logged_train_ && s % cfg_.log.images_every_steps != 0) return;
  logged_train_ = true;
  try {
    if (text_) {
      train_text(s, x, y);
    } else {
      train_pictures(s, x, y);
    }
  } catch (const std::exception& e) {
    turn_off(e);
  }
}

void ImageSummaries::train_pictures(int64_t step, const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t n = cfg_.log.images_count;
  BatchPicture b{head(x, n), {}, {}};
  if (task_ == Task::kSegmentation) {  // the labels are the masks in the picture
    b.targets = head(y, n);
    log_.image(step, "train/batch", batch_picture(b, range_));
    return;
  }
  const auto labels = class_captions(task_, head(y, n), cfg_.data.label_names);
  log_.image(step, fmt::format("train/batch step {} (labels: {})", step, fmt::join(labels, ", ")),
             batch_picture(b, range_));
}

void ImageSummaries::train_text(int64_t step, const torch::Tensor& x, const torch::Tensor& y) {
  const auto ids = head(x, cfg_.log.images_count), targets = head(y, cfg_.log.images_count);
  const auto tags = data::text::bio_tag_names(cfg_.data.label_names);
  std::vector<std::string> labels;
  if (task_ != Task::kTokenTagging) labels = class_captions(task_, targets, cfg_.data.label_names);
  std::vector<TextRow> rows;
  for (int64_t i = 0; i < ids.size(0); ++i) {
    TextRow row{decoder_->text(ids[i]), "", ""};
    row.target = labels.empty() ? tagged_tokens(*decoder_, ids[i], targets[i], tags) : labels[static_cast<size_t>(i)];
    rows.push_back(std::move(row));
  }
  log_.text(step, "train/batch", text_table(rows, /*with_prediction=*/false));
}

void ImageSummaries::validation(int64_t step, models::ImageModel& model, const data::Dataset& val,
                                c10::Device device) {
  if (!on_) return;
  try {
    model.eval();
    torch::NoGradGuard no_grad;
    if (text_) {
      val_text(step, model, val, device);
    } else {
      val_pictures(step, model, val, device);
    }
  } catch (const std::exception& e) {
    turn_off(e);
  }
}

void ImageSummaries::val_pictures(int64_t step, models::ImageModel& model, const data::Dataset& val,
                                  c10::Device device) {
  const auto samples = first_samples(val, cfg_.log.images_count);
  if (samples.empty()) return;
  std::vector<torch::Tensor> images, targets;
  for (const auto& s : samples) {
    // open_data keeps the val split float (training_data.h); stored values
    // would need the device preprocessing first.
    if (s.preprocess.defined()) throw std::logic_error("val samples hold stored values, not images");
    images.push_back(s.image);
    targets.push_back(s.target);
  }
  const auto x = torch::stack(images), y = torch::stack(targets);
  // In chunks of the batch size: 8 whole CT volumes at once may not fit where
  // the evaluation's batches do.
  std::vector<torch::Tensor> logits;
  const int64_t chunk = std::max<int64_t>(1, cfg_.optim.batch_size);
  AutocastGuard autocast(device.type(), autocast_dtype(cfg_.run.precision));
  for (int64_t i = 0; i < x.size(0); i += chunk) {
    auto part = x.narrow(0, i, std::min(chunk, x.size(0) - i)).to(device);
    if (cfg_.model.channels_last && part.dim() == 4) part = part.contiguous(at::MemoryFormat::ChannelsLast);
    logits.push_back(model.forward(part).to(torch::kFloat32).cpu());
  }
  const auto out = torch::cat(logits);
  BatchPicture b{x, {}, {}};
  if (task_ == Task::kSegmentation) {
    b.targets = y;
    b.predicted = out.argmax(1);
    log_.image(step, "val/predictions", batch_picture(b, range_));
    return;
  }
  const auto& names = cfg_.data.label_names;
  const auto truth = class_captions(task_, y, names);
  const auto predicted = class_captions(task_, predicted_classes(task_, out), names);
  std::vector<std::string> pairs;
  for (size_t i = 0; i < truth.size(); ++i) pairs.push_back(predicted[i] + "/" + truth[i]);
  log_.image(step, fmt::format("val/predictions step {} (predicted/true: {})", step, fmt::join(pairs, ", ")),
             batch_picture(b, range_));
}

void ImageSummaries::val_text(int64_t step, models::ImageModel& model, const data::Dataset& val,
                              c10::Device device) {
  const auto samples = first_samples(val, cfg_.log.images_count);
  if (samples.empty()) return;
  const auto& names = cfg_.data.label_names;
  const auto tags = data::text::bio_tag_names(names);
  AutocastGuard autocast(device.type(), autocast_dtype(cfg_.run.precision));
  std::vector<TextRow> rows;
  for (const auto& s : samples) {  // one text at a time: no padding to get wrong
    const auto logits = model.forward(s.image.unsqueeze(0).to(device)).to(torch::kFloat32).cpu();
    TextRow row{decoder_->text(s.image), "", ""};
    if (task_ == Task::kTokenTagging) {
      row.target = tagged_tokens(*decoder_, s.image, s.target, tags);
      row.predicted = tagged_tokens(*decoder_, s.image, logits[0].argmax(-1), tags, s.target);
    } else {
      row.target = class_captions(task_, s.target.unsqueeze(0), names).at(0);
      row.predicted = class_captions(task_, predicted_classes(task_, logits), names).at(0);
    }
    rows.push_back(std::move(row));
  }
  log_.text(step, "val/predictions", text_table(rows, /*with_prediction=*/true));
}

}  // namespace medtrain::engine
