#pragma once
// Small, portable random helpers. std::mt19937_64's output sequence is fixed by
// the C++ standard, but the std:: distributions are not (libstdc++ and libc++
// differ), so everything that must be reproducible across platforms (sampler
// order, synthetic data, augmentation) draws through these instead.
#include <cmath>
#include <cstdint>
#include <random>

namespace medtrain::data {

// SplitMix64 finalizer: a bijective mix of 64 bits (Steele et al. 2014).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Derives an independent stream seed from a base seed and a stream number.
inline uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  return splitmix64(seed ^ splitmix64(stream + 0x632be59bd9b4e019ULL));
}

// Uniform in [0, 1) with 53 random bits.
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

inline double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}

// Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling).
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % n;
}

// Standard normal by Box-Muller (one of the pair; simple beats fast here).
inline double normal01(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace medtrain::data
