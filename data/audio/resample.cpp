#include "data/audio/resample.h"

#include <soxr.h>

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "data/data_error.h"

namespace medtrain::data::audio {

std::vector<float> resample_mono(const std::vector<float>& in, double in_rate, double out_rate,
                                 const std::string& name) {
  if (in_rate == out_rate || in.empty()) return in;
  // soxr_oneshot writes at most ceil(n * ratio) samples; one more is slack.
  std::vector<float> out(static_cast<size_t>(std::ceil(static_cast<double>(in.size()) * out_rate / in_rate)) + 1);
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);  // the loader's threads parallelise across files
  size_t done = 0;
  const soxr_error_t err = soxr_oneshot(in_rate, out_rate, 1, in.data(), in.size(), nullptr, out.data(),
                                        out.size(), &done, &io, &quality, &runtime);
  if (err) throw DataError(fmt::format("{}: resampling {:g} Hz -> {:g} Hz failed: {}", name, in_rate, out_rate, err));
  out.resize(done);
  return out;
}

}  // namespace medtrain::data::audio
