#include "kernels/bucket_epilogue.h"

#include <c10/util/Exception.h>

#include <cmath>

#include "kernels/tensor_checks.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/bucket_epilogue_cuda.h"
#include "kernels/cuda_stream.h"
#endif

namespace medtrain::kernels {

void bucket_epilogue_(const at::Tensor& bucket, double factor, const at::Tensor& found_inf) {
  constexpr const char* kOp = "bucket_epilogue_";
  TORCH_CHECK(bucket.defined(), kOp, ": bucket is undefined");
  detail::check_dense(bucket, kOp, "bucket", c10::kFloat, bucket.device());
  detail::check_scalar_tensor(found_inf, kOp, "found_inf", bucket.device());
  TORCH_CHECK(std::isfinite(factor), kOp, ": factor must be finite, got ", factor);
  const float f = static_cast<float>(factor);
  if (bucket.device().is_cpu()) {
    if (ref::bucket_epilogue(bucket.data_ptr<float>(), bucket.numel(), f)) found_inf.fill_(1.f);
    return;
  }
  TORCH_CHECK(bucket.is_cuda(), kOp, ": unsupported device ", bucket.device());
#ifdef MEDTRAIN_WITH_CUDA
  c10::cuda::CUDAGuard guard(bucket.device());
  cuda::bucket_epilogue(bucket.data_ptr<float>(), bucket.numel(), f, found_inf.data_ptr<float>(),
                        detail::current_stream_for(bucket));
#else
  TORCH_CHECK(false, kOp, ": got a CUDA tensor but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
#endif
}

}  // namespace medtrain::kernels
