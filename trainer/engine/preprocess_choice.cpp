#include "trainer/engine/preprocess_choice.h"

#include "trainer/engine/task.h"

namespace medtrain::engine {

PreprocessChoice choose_preprocess(const config::Config& cfg, const KernelChoice& kernels) {
  PreprocessChoice c;
  if (is_text(cfg) || is_speech(cfg)) return c;  // no images
  const std::string cpu = "preprocess: on the CPU in the loader (";
  const config::DataConfig& d = cfg.data;
  if (!kernels.preprocess) {
    c.message = cpu + "no fused kernels on this run)";
  } else if (d.colour == "rgb") {
    c.message = cpu + "data.colour rgb: three colour channels, preprocess_images reads one stored channel)";
  } else if (d.depth > 0) {
    c.message = cpu + "data.depth " + std::to_string(d.depth) +
                ": volumes need a trilinear resize, which preprocess_images does not do)";
  } else if (d.augment && d.rotate_degrees > 0) {
    c.message = cpu + "data.rotate_degrees needs a rotation warp, which preprocess_images does not do)";
  } else if (d.augment && d.crop_scale < 1) {
    c.message = cpu + "data.crop_scale zooms each crop back to data.image_size: a resize, which "
                      "preprocess_images does not do)";
  } else {
    c.on_device = true;
    c.message = "preprocess: on the device (preprocess_images): the loader ships stored values of files stored at "
                "data.image_size x data.image_size; files of other sizes, colour files and values no 16-bit "
                "integer holds are still preprocessed on the CPU";
  }
  return c;
}

}  // namespace medtrain::engine
