#pragma once
// A crude axial chest CT slice in Hounsfield units, for demos and tests: air
// outside, a body ellipse (subcutaneous fat, soft tissue), two lung fields with
// small vessels, heart, vertebra, sternum and ribs, Gaussian noise, and
// optionally one round soft-tissue lesion inside a lung (the learnable finding).
// Pure computation: no I/O, deterministic in its seeds.
#include <cstdint>
#include <random>
#include <vector>

namespace medtrain::data {

struct PhantomLesion {
  bool present = false;
  double center_row = 0, center_col = 0, radius = 0;  // pixels
  double hu = 0;                                       // mean lesion value
};

struct Phantom {
  int64_t size = 0;
  std::vector<int16_t> hu;  // size*size, row-major, clamped to [-1024, 3071]
  PhantomLesion lesion;     // the first lesion
  std::vector<uint8_t> mask;  // size*size: 1 where a lesion was painted, else 0
};

// Where a lesion sits: in lung `lung` (0 = the lung on the image's left, the
// patient's right; 1 = the other), at polar offset (rho, phi) from the lung's
// centre in units of its half-axes, with `radius` in normalized image units
// ([-1, 1] across the image; 0 = not on this slice) and mean value `hu`.
struct LesionPlacement {
  int lung = 0;
  double rho = 0, phi = 0, radius = 0, hu = 60;
};

// A placement as the one-lesion phantom draws it; lung < 0 = either lung.
LesionPlacement draw_lesion_placement(std::mt19937_64& rng, int lung);

// `anatomy_seed` fixes the body shape (share it across the slices of one
// patient); `slice_seed` draws vessels, noise and the lesion. The lesion radius
// is 8-14% of half the image width (visible after resizing 256 -> 64).
Phantom render_ct_phantom(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed, bool lesion);
// The same anatomy and noise with the lesions given (none, one per lung, or a
// slice through a sphere: the caller sets each slice's radius).
Phantom render_ct_phantom(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed,
                          const std::vector<LesionPlacement>& lesions);

}  // namespace medtrain::data
