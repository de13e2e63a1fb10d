// CPU reference of the fused preprocessing: the loops of the CUDA kernel, with
// the per-pixel math shared through image_preprocess_math.h.
#include <c10/util/BFloat16.h>

#include "kernels/image_preprocess_cuda.h"
#include "kernels/image_preprocess_math.h"

namespace medtrain::kernels::ref {
namespace {

template <typename In, typename Out>
void run(const In* raw, Out* out, const float* fp, const int32_t* ip, const PreprocessShape& s) {
  for (int64_t n = 0; n < s.n; ++n) {
    const detail::SampleParams p = detail::load_sample(fp, ip, s.n, n);
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const In* src_row = raw + (n * s.h + p.crop_y + oy) * s.w;
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const Out v = static_cast<Out>(detail::preprocess_pixel(src_row, p, s, ox));
        for (int64_t c = 0; c < s.channels; ++c) out[detail::preprocess_out_index(s, n, c, oy, ox)] = v;
      }
    }
  }
}

template <typename In>
void run_in(const void* raw, void* out, bool out_bf16, const float* fp, const int32_t* ip,
            const PreprocessShape& s) {
  if (out_bf16) {
    run(static_cast<const In*>(raw), static_cast<c10::BFloat16*>(out), fp, ip, s);
  } else {
    run(static_cast<const In*>(raw), static_cast<float*>(out), fp, ip, s);
  }
}

}  // namespace

void preprocess_images(const void* raw, bool is_signed, void* out, bool out_bf16,
                       const float* fparams, const int32_t* iparams, const PreprocessShape& s) {
  if (is_signed) {
    run_in<int16_t>(raw, out, out_bf16, fparams, iparams, s);
  } else {
    run_in<uint16_t>(raw, out, out_bf16, fparams, iparams, s);
  }
}

}  // namespace medtrain::kernels::ref
