#pragma once
// Mono sample-rate conversion with libsoxr at its 'high quality' setting
// (20-bit: passband flat to 0.1 dB up to 91 % of the lower Nyquist frequency,
// stopband past it attenuated by more than 120 dB, linear phase), one thread.
// soxr removes its filter delay, so output sample k lies at time k / out_rate
// like input sample k at k / in_rate, and the output holds
// round(n * out_rate / in_rate) samples. Torch-free.
#include <string>
#include <vector>

namespace medtrain::data::audio {

// Returns `in` unchanged when the rates are equal. Throws DataError naming
// `name` when soxr refuses (it reports why).
std::vector<float> resample_mono(const std::vector<float>& in, double in_rate, double out_rate,
                                 const std::string& name);

}  // namespace medtrain::data::audio
