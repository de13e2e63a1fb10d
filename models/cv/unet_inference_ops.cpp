#include "models/cv/unet_inference_ops.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "models/cv/onednn_ops.h"

namespace medtrain::models {

namespace {

bool onednn_available() {
  const auto& o = onednn_ops();
  return o.conv_reorder && o.conv && o.conv_transpose_reorder && o.conv_transpose;
}

}  // namespace

at::MemoryFormat channels_last_for(const at::Tensor& x) {
  return x.dim() == 5 ? at::MemoryFormat::ChannelsLast3d : at::MemoryFormat::ChannelsLast;
}

PackedConv::PackedConv(const at::Tensor& weight, const at::Tensor& bias, int64_t padding, int64_t stride,
                       bool transposed, const c10::Device& device)
    : transposed_(transposed) {
  c10::InferenceMode guard;
  const auto dims = static_cast<size_t>(weight.dim() - 2);
  padding_.assign(dims, padding);
  stride_.assign(dims, stride);
  dilation_.assign(dims, 1);
  output_padding_.assign(dims, 0);
  onednn_ = device.is_cpu() && weight.scalar_type() == at::kFloat && onednn_available();
  weight_ = weight.detach().to(device).contiguous();
  bias_ = bias.detach().to(device).contiguous();
  if (device.is_cpu() && weight_.scalar_type() == at::kFloat && !transposed_ && own_convolution_primitives_enabled()) {
    own_.emplace(weight_, bias_, stride_, padding_, dilation_, 1);
    onednn_ = true;
  }
}

PackedConv::PackedConv(PackedConv&& other) noexcept
    : weight_(std::move(other.weight_)),
      bias_(std::move(other.bias_)),
      own_(std::move(other.own_)),
      padding_(std::move(other.padding_)),
      stride_(std::move(other.stride_)),
      dilation_(std::move(other.dilation_)),
      output_padding_(std::move(other.output_padding_)),
      transposed_(other.transposed_),
      onednn_(other.onednn_),
      packed_(std::move(other.packed_)) {}

at::Tensor PackedConv::packed(at::IntArrayRef sizes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [shape, w] : packed_) {
    if (shape == sizes) return w;
  }
  c10::InferenceMode guard;
  const auto& o = onednn_ops();
  at::Tensor w =
      transposed_
          ? call_boxed(*o.conv_transpose_reorder,
                       {weight_, padding_, output_padding_, stride_, dilation_, int64_t{1}, sizes.vec()})
          : call_boxed(*o.conv_reorder, {weight_, padding_, stride_, dilation_, int64_t{1}, sizes.vec()});
  if (packed_.size() == kPackedShapes) packed_.erase(packed_.begin());
  packed_.emplace_back(sizes.vec(), w);
  return w;
}

at::Tensor PackedConv::operator()(const at::Tensor& x) const {
  if (own_) return (*own_)(x, at::Tensor(), onednn::PostOp::kNone);
  if (!onednn_) {
    return at::convolution(x, weight_, bias_, stride_, padding_, dilation_, transposed_, output_padding_, 1);
  }
  const at::Tensor in = x.contiguous(channels_last_for(x));
  const c10::List<std::optional<at::Scalar>> no_scalars;
  if (transposed_) {
    return call_boxed(*onednn_ops().conv_transpose, {in, packed(in.sizes()), bias_, padding_, output_padding_, stride_,
                                                     dilation_, int64_t{1}, std::string("none"), no_scalars,
                                                     c10::IValue()});
  }
  return call_boxed(*onednn_ops().conv, {in, packed(in.sizes()), bias_, padding_, stride_, dilation_, int64_t{1},
                                         std::string("none"), no_scalars, c10::IValue()});
}

// Note [InstanceNorm in two passes]
// ATen's instance_norm reshapes [N, C, ...] to [1, N*C, ...] and runs batch
// norm, which copies a channels_last input to contiguous and back (half the
// U-Net's eager time went there, profiled). Here, on the channels_last
// buffer itself: pass 1 sums each pixel chunk's channels (vectorised across
// channels), pass 2 applies (x - mean) * gamma / std + beta and the LeakyReLU
// in place. The sums are of x minus the sample's first pixel, so a large mean
// does not cancel the variance's digits; each chunk sums in float and the
// chunks add in double.
namespace {

constexpr int64_t kChunk = 256;  // pixels per task: small enough for float sums

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
// Build with AVX-512 and AVX2 clones, picked at load time by the CPU (the
// project compiles for baseline x86-64, where these loops would be SSE).
#define MEDTRAIN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MEDTRAIN_VECTOR_CLONES
#endif

MEDTRAIN_VECTOR_CLONES
void shifted_sums(const float* __restrict x, int64_t pixels, int64_t channels, const float* __restrict origin,
                  float* __restrict sum, float* __restrict sum_sq) {
  std::fill(sum, sum + channels, 0.f);
  std::fill(sum_sq, sum_sq + channels, 0.f);
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict row = x + p * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const float d = row[c] - origin[c];
      sum[c] += d;
      sum_sq[c] += d * d;
    }
  }
}

MEDTRAIN_VECTOR_CLONES
void normalize_leaky(float* __restrict x, int64_t pixels, int64_t channels, const float* __restrict mean,
                     const float* __restrict scale, const float* __restrict beta, float slope) {
  for (int64_t p = 0; p < pixels; ++p) {
    float* __restrict row = x + p * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const float z = (row[c] - mean[c]) * scale[c] + beta[c];
      row[c] = z > 0.f ? z : z * slope;
    }
  }
}

// The same, from x into `out` (pixel stride out_stride: a channel slice of a
// wider channels_last buffer).
MEDTRAIN_VECTOR_CLONES
void normalize_leaky_into(const float* __restrict x, int64_t pixels, int64_t channels, const float* __restrict mean,
                          const float* __restrict scale, const float* __restrict beta, float slope,
                          float* __restrict out, int64_t out_stride) {
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict row = x + p * channels;
    float* __restrict dst = out + p * out_stride;
    for (int64_t c = 0; c < channels; ++c) {
      const float z = (row[c] - mean[c]) * scale[c] + beta[c];
      dst[c] = z > 0.f ? z : z * slope;
    }
  }
}

// max over the 2^D window corners at `offsets` from src, per channel.
MEDTRAIN_VECTOR_CLONES
void window_max(const float* __restrict src, const int64_t* offsets, int64_t corners, int64_t channels,
                float* __restrict dst) {
  for (int64_t c = 0; c < channels; ++c) dst[c] = src[offsets[0] + c];
  for (int64_t k = 1; k < corners; ++k) {
    const float* __restrict s = src + offsets[k];
    for (int64_t c = 0; c < channels; ++c) dst[c] = s[c] > dst[c] ? s[c] : dst[c];
  }
}

bool is_channel_slice(const at::Tensor& x) {
  // channels innermost with stride 1, pixels dense at a fixed pixel stride.
  if (x.stride(1) != 1) return false;
  int64_t expect = x.stride(x.dim() - 1);
  if (expect < x.size(1)) return false;
  for (int64_t d = x.dim() - 1; d >= 2; --d) {
    if (x.stride(d) != expect) return false;
    expect *= x.size(d);
  }
  return true;
}

}  // namespace

namespace {

bool fast_path(const at::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat && (x.dim() == 4 || x.dim() == 5) &&
         x.is_contiguous(channels_last_for(x));
}

at::Tensor aten_instance_norm_leaky_relu(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta,
                                         double eps, double slope) {
  at::Tensor y = at::instance_norm(x, gamma, beta, {}, {}, /*use_input_stats=*/true, 0.0, eps,
                                   /*cudnn_enabled=*/false);
  return at::leaky_relu_(y, slope);
}

// x as pixel chunks of kChunk, for at::parallel_for over (sample, chunk).
struct Chunks {
  int64_t samples, channels, pixels, per_sample;
  explicit Chunks(const at::Tensor& x)
      : samples(x.size(0)), channels(x.size(1)), pixels(x.numel() / (x.size(0) * x.size(1))),
        per_sample((pixels + kChunk - 1) / kChunk) {}
  int64_t tasks() const { return samples * per_sample; }
  int64_t sample(int64_t task) const { return task / per_sample; }
  int64_t first(int64_t task) const { return (task % per_sample) * kChunk; }
  int64_t count(int64_t task) const { return std::min(kChunk, pixels - first(task)); }
};

// Per (sample, channel) mean and gamma / std of a dense channels_last x.
struct Stats {
  std::vector<float> mean, scale;
};

Stats statistics(const at::Tensor& x, const at::Tensor& gamma, double eps) {
  const Chunks ch(x);
  const int64_t channels = ch.channels;
  const float* data = x.const_data_ptr<float>();
  std::vector<float> sums(static_cast<size_t>(ch.tasks() * 2 * channels));
  at::parallel_for(0, ch.tasks(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* origin = data + ch.sample(t) * ch.pixels * channels;
      float* s = sums.data() + t * 2 * channels;
      shifted_sums(origin + ch.first(t) * channels, ch.count(t), channels, origin, s, s + channels);
    }
  });
  const at::Tensor g = gamma.to(at::kFloat).contiguous();
  const float* gp = g.const_data_ptr<float>();
  Stats st{std::vector<float>(static_cast<size_t>(ch.samples * channels)), {}};
  st.scale.resize(st.mean.size());
  for (int64_t s = 0; s < ch.samples; ++s) {
    const float* origin = data + s * ch.pixels * channels;
    for (int64_t c = 0; c < channels; ++c) {
      double sum = 0, sum_sq = 0;
      for (int64_t k = 0; k < ch.per_sample; ++k) {
        sum += sums[((s * ch.per_sample + k) * 2) * channels + c];
        sum_sq += sums[((s * ch.per_sample + k) * 2 + 1) * channels + c];
      }
      const double m = sum / static_cast<double>(ch.pixels);
      const double var = std::max(sum_sq / static_cast<double>(ch.pixels) - m * m, 0.0);
      st.mean[s * channels + c] = static_cast<float>(origin[c] + m);
      st.scale[s * channels + c] = static_cast<float>(gp[c] / std::sqrt(var + eps));
    }
  }
  return st;
}

}  // namespace

void instance_norm_leaky_relu_(at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps,
                               double slope) {
  c10::InferenceMode guard;
  if (!fast_path(x)) {
    x = aten_instance_norm_leaky_relu(x, gamma, beta, eps, slope);
    return;
  }
  const Stats st = statistics(x, gamma, eps);
  const Chunks ch(x);
  const at::Tensor b = beta.to(at::kFloat).contiguous();
  float* data = x.data_ptr<float>();
  at::parallel_for(0, ch.tasks(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t s = ch.sample(t), c0 = s * ch.channels;
      normalize_leaky(data + (s * ch.pixels + ch.first(t)) * ch.channels, ch.count(t), ch.channels, &st.mean[c0],
                      &st.scale[c0], b.const_data_ptr<float>(), static_cast<float>(slope));
    }
  });
}

void instance_norm_leaky_relu_into(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                   double slope, at::Tensor& out) {
  c10::InferenceMode guard;
  if (!fast_path(x) || !out.is_cpu() || out.scalar_type() != at::kFloat || out.sizes() != x.sizes() ||
      !is_channel_slice(out)) {
    out.copy_(aten_instance_norm_leaky_relu(x, gamma, beta, eps, slope));
    return;
  }
  const Stats st = statistics(x, gamma, eps);
  const Chunks ch(x);
  const at::Tensor b = beta.to(at::kFloat).contiguous();
  const float* data = x.const_data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t pixel_stride = out.stride(out.dim() - 1);
  at::parallel_for(0, ch.tasks(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t s = ch.sample(t), c0 = s * ch.channels;
      normalize_leaky_into(data + (s * ch.pixels + ch.first(t)) * ch.channels, ch.count(t), ch.channels,
                           &st.mean[c0], &st.scale[c0], b.const_data_ptr<float>(), static_cast<float>(slope),
                           dst + s * out.stride(0) + ch.first(t) * pixel_stride, pixel_stride);
    }
  });
}

at::Tensor max_pool_2x(const at::Tensor& x) {
  c10::InferenceMode guard;
  const int64_t dims = x.dim() - 2;
  if (!x.is_cpu() || x.scalar_type() != at::kFloat || !is_channel_slice(x)) {
    return dims == 2 ? at::max_pool2d(x, {2, 2}, {2, 2}) : at::max_pool3d(x, {2, 2, 2}, {2, 2, 2});
  }
  std::vector<int64_t> out_sizes = x.sizes().vec();
  for (int64_t d = 2; d < x.dim(); ++d) out_sizes[static_cast<size_t>(d)] /= 2;
  at::Tensor out = at::empty(out_sizes, x.options().memory_format(channels_last_for(x)));
  const int64_t channels = x.size(1), corners = int64_t{1} << dims;
  std::vector<int64_t> offsets(static_cast<size_t>(corners), 0);
  for (int64_t k = 0; k < corners; ++k) {
    for (int64_t d = 0; d < dims; ++d) {
      if (k & (int64_t{1} << d)) offsets[static_cast<size_t>(k)] += x.stride(2 + d);
    }
  }
  const int64_t pixels = out.numel() / (out.size(0) * channels);
  const float* src = x.const_data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, out.size(0) * pixels, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      // output pixel i -> its window's first input element
      int64_t rest = i % pixels, base = (i / pixels) * x.stride(0);
      for (int64_t d = x.dim() - 1; d >= 2; --d) {
        base += 2 * (rest % out.size(d)) * x.stride(d);
        rest /= out.size(d);
      }
      window_max(src + base, offsets.data(), corners, channels, dst + i * channels);
    }
  });
  return out;
}

}  // namespace medtrain::models
