#pragma once
// A 2D convolution built once as a oneDNN primitive and executed many times.
//
// Note [Own oneDNN primitives]: each ATen oneDNN convolution call creates the
// convolution's primitive descriptor again (oneDNN caches primitives, not
// descriptors): 20-55 us per call on a Zen 4 core, measured, whatever the
// convolution's size. DenseNet-121 at batch 1 makes 120 such calls, ~3 ms of a
// ~35 ms forward. Built once per input shape and kept, a primitive executes
// with 2-5 us of overhead. libtorch_cpu links its oneDNN statically and
// exports none of it, so this uses a oneDNN of its own (Debian libdnnl). Both
// use OpenMP through the same SONAME (libgomp.so.1), so the dynamic linker
// loads one runtime and they share one thread pool and thread count.
//
// Plain C++ types only: this folder compiles without LibTorch's include
// directories, whose oneDNN headers are another version than the library
// linked here (models/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace medtrain::models::onednn {

// A convolution over 2 or 3 spatial dimensions ([H, W] or [D, H, W]): every
// vector has one entry per spatial dimension.
struct ConvShape {
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  std::vector<int64_t> in_size, kernel, stride, padding, dilation;
};

// What follows the convolution + bias, fused: an activation, or the sum into
// the destination's previous contents (a residual), optionally then ReLU.
enum class PostOp { kNone, kRelu, kSilu, kSum, kSumRelu };

class ConvPrimitive {
 public:
  // `weight` is [out, in / groups, k...] dense, `bias` [out]; both are
  // copied (the weights reordered into the primitive's layout).
  // std::runtime_error naming the shape when oneDNN cannot build it.
  ConvPrimitive(const ConvShape& shape, const float* weight, const float* bias, PostOp post_op);
  ~ConvPrimitive();
  ConvPrimitive(const ConvPrimitive&) = delete;
  ConvPrimitive& operator=(const ConvPrimitive&) = delete;

  // The output's spatial size, one entry per spatial dimension.
  const std::vector<int64_t>& out_size() const;
  // Bytes of scratch memory run() needs (0: pass nullptr).
  size_t scratchpad_bytes() const;
  // src: [N, (D,) H, W, C] dense (channels last); dst likewise with the
  // output's size and channels, read first for kSum*.
  // Safe to call from several threads at once with distinct dst/scratchpad.
  void run(const float* src, float* dst, void* scratchpad) const;
  // oneDNN's name for the implementation it chose, e.g. "brgconv:avx512_core".
  std::string implementation() const;

  struct Impl;  // oneDNN's objects, defined where oneDNN's headers are

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether this build has its own oneDNN (false: callers use ATen's).
bool available();

// Whether large 3x3 convolutions may use Winograd (Note [Winograd with
// reorders] in the .cpp): unless MEDTRAIN_ONEDNN_WINOGRAD=0.
bool winograd_enabled();

}  // namespace medtrain::models::onednn
