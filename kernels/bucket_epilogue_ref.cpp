// CPU reference of the bucket epilogue: the same multiply and check, plainly.
#include <cmath>

#include "kernels/bucket_epilogue.h"

namespace medtrain::kernels::ref {

bool bucket_epilogue(float* data, int64_t n, float factor) {
  bool bad = false;
  for (int64_t i = 0; i < n; ++i) {
    data[i] *= factor;
    bad |= !std::isfinite(data[i]);
  }
  return bad;
}

}  // namespace medtrain::kernels::ref
