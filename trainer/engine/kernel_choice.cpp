#include "trainer/engine/kernel_choice.h"

#include "models/image_model.h"

namespace medtrain::engine {

KernelChoice choose_kernels(bool fused_requested, const c10::Device& device) {
  KernelChoice k;
  if (!fused_requested) {
    k.message = "kernels: LibTorch ops (kernels.fused=false)";
    return k;
  }
  if (!device.is_cuda()) {
    k.message = "kernels: LibTorch ops (kernels.fused=true applies on CUDA only; this run is on the " +
                device.str() + ")";
    return k;
  }
  k.optimizer = k.amp_unscale = k.cross_entropy = k.preprocess = k.bucket_epilogue = k.transformer = true;
  k.message = "kernels: fused (optimizer, AMP unscale, cross-entropy, image preprocessing, bucket epilogue, "
              "layer norm, bias+GELU) on " + device.str();
  return k;
}

void apply_kernel_choice(const KernelChoice& k, models::ImageModel& model) { model.use_fused_kernels(k.transformer); }

}  // namespace medtrain::engine
