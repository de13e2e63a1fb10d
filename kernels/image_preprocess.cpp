// LibTorch-facing preprocessing op: validates the batch and the per-sample
// parameters (CPU tensors, so every check is exact and costs no device sync),
// packs them, then runs the CUDA kernel or the CPU reference.
#include "kernels/image_preprocess.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/image_preprocess_cuda.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace medtrain::kernels {
namespace {

constexpr const char* kOp = "preprocess_images";

struct Geometry {
  int64_t n, h, w, out_h, out_w;
};

Geometry check_raw(const at::Tensor& raw, const PreprocessParams& p) {
  TORCH_CHECK(raw.defined(), kOp, ": raw is undefined");
  TORCH_CHECK(raw.scalar_type() == c10::kUInt16 || raw.scalar_type() == c10::kShort, kOp,
              ": raw must be uint16 or int16 stored pixel values, got ", raw.scalar_type());
  TORCH_CHECK(raw.dim() == 3 || (raw.dim() == 4 && raw.size(1) == 1), kOp,
              ": raw must be [N,1,H,W] or [N,H,W], got sizes ", raw.sizes());
  TORCH_CHECK(raw.is_contiguous(), kOp, ": raw is not contiguous (strides ", raw.strides(),
              "); pass raw.contiguous()");
  Geometry g{raw.size(0), raw.size(-2), raw.size(-1), p.out_h ? p.out_h : raw.size(-2),
             p.out_w ? p.out_w : raw.size(-1)};
  TORCH_CHECK(g.out_h > 0 && g.out_h <= g.h && g.out_w > 0 && g.out_w <= g.w, kOp, ": crop size ",
              g.out_h, "x", g.out_w, " must be positive and fit in the image ", g.h, "x", g.w);
  TORCH_CHECK(p.out_channels == 1 || p.out_channels == 3, kOp, ": out_channels must be 1 or 3, got ",
              p.out_channels);
  TORCH_CHECK(p.out_dtype == c10::kFloat || p.out_dtype == c10::kBFloat16, kOp,
              ": out_dtype must be float32 or bfloat16, got ", p.out_dtype);
  TORCH_CHECK(p.std > 0 && std::isfinite(p.mean), kOp, ": need std > 0 and a finite mean, got mean ",
              p.mean, " std ", p.std);
  return g;
}

// A per-sample parameter as a CPU tensor of N values of `dtype`.
at::Tensor row(const at::Tensor& t, const char* name, int64_t n, c10::ScalarType dtype) {
  TORCH_CHECK(t.defined(), kOp, ": params.", name, " is required");
  TORCH_CHECK(t.device().is_cpu(), kOp, ": params.", name,
              " must be a CPU tensor (the op copies it to the device), got ", t.device());
  TORCH_CHECK(t.dim() == 1 && t.size(0) == n, kOp, ": params.", name, " must have shape [", n,
              "], got ", t.sizes());
  return t.to(dtype).contiguous();
}

// Packs the parameters as PreprocessRow / PreprocessIntRow rows, checking values.
std::pair<at::Tensor, at::Tensor> pack(const PreprocessParams& p, const Geometry& g) {
  const auto n = g.n;
  at::Tensor width = row(p.window_width, "window_width", n, c10::kFloat);
  TORCH_CHECK((width > 0).all().item<bool>(), kOp, ": params.window_width must be > 0 for every sample");
  at::Tensor center = row(p.window_center, "window_center", n, c10::kFloat);
  TORCH_CHECK(p.gain.defined() == p.bias.defined(), kOp, ": params.gain and params.bias go together");
  const bool jitter = p.gain.defined();
  at::Tensor fp = at::stack({row(p.slope, "slope", n, c10::kFloat), row(p.intercept, "intercept", n, c10::kFloat),
                             center - width / 2, width,
                             jitter ? row(p.gain, "gain", n, c10::kFloat) : at::ones({n}),
                             jitter ? row(p.bias, "bias", n, c10::kFloat) : at::zeros({n})});
  TORCH_CHECK(fp.isfinite().all().item<bool>(), kOp, ": per-sample parameters must be finite");
  TORCH_CHECK(p.crop_y.defined() == p.crop_x.defined(), kOp, ": params.crop_y and params.crop_x go together");
  const at::Tensor zeros = at::zeros({n}, c10::kInt);
  at::Tensor flip = p.flip.defined() ? row(p.flip, "flip", n, c10::kInt).ne(0).to(c10::kInt) : zeros;
  at::Tensor cy = p.crop_y.defined() ? row(p.crop_y, "crop_y", n, c10::kLong) : zeros.to(c10::kLong);
  at::Tensor cx = p.crop_x.defined() ? row(p.crop_x, "crop_x", n, c10::kLong) : zeros.to(c10::kLong);
  TORCH_CHECK((cy >= 0).all().item<bool>() && (cy <= g.h - g.out_h).all().item<bool>() &&
                  (cx >= 0).all().item<bool>() && (cx <= g.w - g.out_w).all().item<bool>(),
              kOp, ": crop offsets must satisfy 0 <= crop_y <= ", g.h - g.out_h, " and 0 <= crop_x <= ",
              g.w - g.out_w, " for a ", g.out_h, "x", g.out_w, " crop of ", g.h, "x", g.w);
  return {fp.contiguous(), at::stack({flip, cy.to(c10::kInt), cx.to(c10::kInt)}).contiguous()};
}

c10::MemoryFormat format_of(const PreprocessParams& p) {
  return p.channels_last ? c10::MemoryFormat::ChannelsLast : c10::MemoryFormat::Contiguous;
}

}  // namespace

void preprocess_images_out(const at::Tensor& raw, const PreprocessParams& p, const at::Tensor& out) {
  const Geometry g = check_raw(raw, p);
  TORCH_CHECK(out.defined() && out.device() == raw.device() && out.scalar_type() == p.out_dtype &&
                  out.sizes() == at::IntArrayRef({g.n, p.out_channels, g.out_h, g.out_w}) &&
                  out.is_contiguous(format_of(p)),
              kOp, ": out must be ", p.out_dtype, " [", g.n, ",", p.out_channels, ",", g.out_h, ",",
              g.out_w, "] on ", raw.device(), p.channels_last ? " in channels_last" : " contiguous");
  auto [fp, ip] = pack(p, g);
  const PreprocessShape s{g.n, g.h, g.w, g.out_h, g.out_w, p.out_channels,
                          static_cast<float>(p.mean), static_cast<float>(p.std), p.channels_last};
  const bool is_signed = raw.scalar_type() == c10::kShort;
  const bool bf16 = p.out_dtype == c10::kBFloat16;
  if (raw.device().is_cpu()) {
    ref::preprocess_images(raw.data_ptr(), is_signed, out.data_ptr(), bf16, fp.data_ptr<float>(),
                           ip.data_ptr<int32_t>(), s);
    return;
  }
  TORCH_CHECK(raw.is_cuda(), kOp, ": unsupported device ", raw.device());
#ifdef MEDTRAIN_WITH_CUDA
  c10::cuda::CUDAGuard guard(raw.device());
  const at::Tensor dfp = fp.to(raw.device()), dip = ip.to(raw.device());
  cuda::preprocess_images(raw.data_ptr(), is_signed, out.data_ptr(), bf16, dfp.data_ptr<float>(),
                          dip.data_ptr<int32_t>(), s, detail::current_stream_for(raw));
#else
  TORCH_CHECK(false, kOp, ": got a CUDA tensor but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
#endif
}

at::Tensor preprocess_images(const at::Tensor& raw, const PreprocessParams& p) {
  const Geometry g = check_raw(raw, p);
  at::Tensor out = at::empty({g.n, p.out_channels, g.out_h, g.out_w},
                             raw.options().dtype(p.out_dtype).memory_format(format_of(p)));
  preprocess_images_out(raw, p, out);
  return out;
}

at::Tensor preprocess_images_unfused(const at::Tensor& raw, const PreprocessParams& p) {
  const Geometry g = check_raw(raw, p);
  const auto dev = raw.device();
  auto col = [&](const at::Tensor& t) { return t.to(dev, c10::kFloat).view({g.n, 1, 1, 1}); };
  at::Tensor x = raw.reshape({g.n, 1, g.h, g.w}).to(c10::kFloat);
  x = x * col(p.slope) + col(p.intercept);
  const at::Tensor width = col(p.window_width);
  x = ((x - (col(p.window_center) - width / 2)) / width).clamp(0, 1);
  if (p.gain.defined()) x = x * col(p.gain) + col(p.bias);
  x = (x - p.mean) / p.std;
  if (g.out_h != g.h || g.out_w != g.w || p.flip.defined()) {
    std::vector<at::Tensor> samples;
    for (int64_t n = 0; n < g.n; ++n) {
      const int64_t cy = p.crop_y.defined() ? p.crop_y[n].item<int64_t>() : 0;
      const int64_t cx = p.crop_x.defined() ? p.crop_x[n].item<int64_t>() : 0;
      at::Tensor s = x[n].narrow(1, cy, g.out_h).narrow(2, cx, g.out_w);
      if (p.flip.defined() && p.flip[n].item<bool>()) s = s.flip({2});
      samples.push_back(s);
    }
    x = at::stack(samples);
  }
  return x.expand({g.n, p.out_channels, g.out_h, g.out_w}).to(p.out_dtype).contiguous(format_of(p));
}

}  // namespace medtrain::kernels
