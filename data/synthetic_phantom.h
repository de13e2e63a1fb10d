#pragma once
// A crude axial chest CT slice in Hounsfield units, for demos and tests: air
// outside, a body ellipse (subcutaneous fat, soft tissue), two lung fields with
// small vessels, heart, vertebra, sternum and ribs, Gaussian noise, and
// optionally one round soft-tissue lesion inside a lung (the learnable finding).
// Pure computation: no I/O, deterministic in its seeds.
#include <cstdint>
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
  PhantomLesion lesion;
};

// `anatomy_seed` fixes the body shape (share it across the slices of one
// patient); `slice_seed` draws vessels, noise and the lesion. The lesion radius
// is 8-14% of half the image width (visible after resizing 256 -> 64).
Phantom render_ct_phantom(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed, bool lesion);

}  // namespace medtrain::data
