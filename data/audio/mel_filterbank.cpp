#include "data/audio/mel_filterbank.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "data/data_error.h"

namespace medtrain::data::audio {
namespace {

constexpr double kLinearHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kLinearHzPerMel;  // 15
const double kLogStep = std::log(6.4) / 27.0;                  // 27 mels per factor 6.4

}  // namespace

double hz_to_slaney_mel(double hz) {
  if (hz < kLogStartHz) return hz / kLinearHzPerMel;
  return kLogStartMel + std::log(hz / kLogStartHz) / kLogStep;
}

double slaney_mel_to_hz(double mel) {
  if (mel < kLogStartMel) return kLinearHzPerMel * mel;
  return kLogStartHz * std::exp(kLogStep * (mel - kLogStartMel));
}

std::vector<float> slaney_mel_filterbank(int sample_rate, int n_fft, int n_mels) {
  if (sample_rate <= 0 || n_fft <= 0 || n_mels <= 0)
    throw DataError(fmt::format("mel filterbank: sample_rate {}, n_fft {} and n_mels {} must be positive",
                                sample_rate, n_fft, n_mels));
  const int bins = n_fft / 2 + 1;
  // n_mels + 2 edges, evenly spaced in mel from 0 to the Nyquist frequency.
  const double top = hz_to_slaney_mel(sample_rate / 2.0);
  std::vector<double> edge(static_cast<size_t>(n_mels) + 2);
  for (size_t i = 0; i < edge.size(); ++i)
    edge[i] = slaney_mel_to_hz(top * static_cast<double>(i) / static_cast<double>(n_mels + 1));
  std::vector<float> w(static_cast<size_t>(n_mels) * bins);
  for (int m = 0; m < n_mels; ++m) {
    const double lo = edge[m], mid = edge[m + 1], hi = edge[m + 2];
    const double norm = 2.0 / (hi - lo);
    for (int k = 0; k < bins; ++k) {
      const double f = static_cast<double>(k) * sample_rate / n_fft;
      const double rising = (f - lo) / (mid - lo);
      const double falling = (hi - f) / (hi - mid);
      w[static_cast<size_t>(m) * bins + k] = static_cast<float>(std::max(0.0, std::min(rising, falling)) * norm);
    }
  }
  return w;
}

}  // namespace medtrain::data::audio
