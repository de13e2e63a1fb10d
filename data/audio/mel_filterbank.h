#pragma once
// The mel filterbank of Whisper's front end: librosa.filters.mel(sr, n_fft,
// n_mels) with its defaults, i.e. the Slaney mel scale (linear below 1 kHz,
// logarithmic above) from 0 Hz to sr / 2, triangles over the rfft bin
// frequencies, each scaled by 2 / (its upper - lower edge in Hz) ("slaney"
// area normalisation). Computed in double, returned as float32 because
// the references (openai-whisper's mel_filters.npz, faster-whisper's
// get_mel_filters(...).astype("float32")) are float32. Torch-free.
#include <vector>

namespace medtrain::data::audio {

double hz_to_slaney_mel(double hz);
double slaney_mel_to_hz(double mel);

// Row-major [n_mels, n_fft / 2 + 1]. Throws DataError for sizes <= 0.
std::vector<float> slaney_mel_filterbank(int sample_rate, int n_fft, int n_mels);

}  // namespace medtrain::data::audio
