#pragma once
// Where a run's image preprocessing happens, decided once and logged once.
// With KernelChoice::preprocess the loader ships stored values and the device
// runs kernels::preprocess_images (rescale, window, jitter, normalise, flip),
// but that kernel does no resize, rotation or volume: configurations that
// need one keep the CPU chain of the loader's workers (data/dicom/dicom_dataset.h),
// and the message says which key decided it. Per sample, files that need a
// resize or are colour stay on the CPU too (data/dicom/raw_sample.h).
#include <string>

#include "trainer/config/config.h"
#include "trainer/engine/kernel_choice.h"

namespace medtrain::engine {

struct PreprocessChoice {
  bool on_device = false;  // open the train split with raw_train_images
  std::string message;     // one line for the run log; empty for text and speech runs
};

PreprocessChoice choose_preprocess(const config::Config& cfg, const KernelChoice& kernels);

}  // namespace medtrain::engine
