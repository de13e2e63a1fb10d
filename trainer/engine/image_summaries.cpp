// PLACEHOLDER (session 12 scaffolding): helper H2 replaces this file.
#include "trainer/engine/image_summaries.h"

namespace medtrain::engine {
ImageSummaries::ImageSummaries(const config::Config& cfg, Task task, RunLogger& log)
    : cfg_(cfg), task_(task), log_(log) {}
void ImageSummaries::train_batch(int64_t, const torch::Tensor&, const torch::Tensor&) {}
void ImageSummaries::validation(int64_t, models::ImageModel&, const data::Dataset&, c10::Device) {}
}  // namespace medtrain::engine
