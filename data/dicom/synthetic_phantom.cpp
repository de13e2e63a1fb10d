#include "data/dicom/synthetic_phantom.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "data/rng.h"

namespace medtrain::data {
namespace {

constexpr double kPi = 3.141592653589793;

// An ellipse in normalized image coordinates ([-1, 1] across the image; x to the
// right, y down as rows go), painted with a mean value and a noise level.
struct Shape {
  double cx, cy, ax, ay;
  double hu, sigma;
  bool contains(double x, double y) const {
    const double dx = (x - cx) / ax, dy = (y - cy) / ay;
    return dx * dx + dy * dy <= 1.0;
  }
};

struct Body {
  double cx, cy, ax, ay;
};

Body draw_body(uint64_t anatomy_seed) {
  std::mt19937_64 rng(anatomy_seed);
  return Body{uniform(rng, -0.03, 0.03), uniform(rng, -0.03, 0.03), uniform(rng, 0.80, 0.88),
              uniform(rng, 0.60, 0.68)};
}

Shape lung(const Body& b, double side, std::mt19937_64& rng) {
  return Shape{b.cx + side * 0.42 * b.ax, b.cy - 0.05 * b.ay, 0.29 * b.ax * uniform(rng, 0.95, 1.05),
               0.62 * b.ay * uniform(rng, 0.95, 1.05), -850, 25};
}

// Everything but the lesion, back to front: later shapes paint over earlier ones.
std::vector<Shape> anatomy(const Body& b, std::mt19937_64& rng, Shape lungs[2]) {
  std::vector<Shape> s;
  s.push_back({b.cx, b.cy, b.ax, b.ay, -100, 15});                // subcutaneous fat
  s.push_back({b.cx, b.cy, b.ax - 0.05, b.ay - 0.05, 40, 12});  // soft tissue
  lungs[0] = lung(b, -1.0, rng);
  lungs[1] = lung(b, +1.0, rng);
  s.push_back(lungs[0]);
  s.push_back(lungs[1]);
  s.push_back({b.cx + 0.06 * b.ax, b.cy, 0.2 * b.ax, 0.3 * b.ay, 40, 12});  // heart
  for (const Shape& l : {lungs[0], lungs[1]}) {  // vessels: small dots, gone at 64x64
    for (int i = 0; i < 8; ++i) {
      const double rho = 0.8 * std::sqrt(uniform01(rng)), phi = uniform(rng, 0, 2 * kPi);
      const double r = uniform(rng, 0.006, 0.014);
      s.push_back({l.cx + rho * l.ax * std::cos(phi), l.cy + rho * l.ay * std::sin(phi), r, r,
                   uniform(rng, -50, 60), 12});
    }
  }
  const double spine_y = b.cy + 0.62 * b.ay, canal_y = spine_y + 0.17 * b.ay;
  s.push_back({b.cx, spine_y, 0.11 * b.ay, 0.11 * b.ay, 700, 40});        // vertebral body
  s.push_back({b.cx, canal_y, 0.085 * b.ay, 0.085 * b.ay, 700, 40});      // posterior arch
  s.push_back({b.cx, canal_y, 0.05 * b.ay, 0.05 * b.ay, 20, 12});         // spinal canal
  s.push_back({b.cx, b.cy - 0.85 * b.ay, 0.05 * b.ax, 0.035, 700, 40});   // sternum
  for (double deg : {-60.0, -30.0, 0.0, 30.0, 60.0, 120.0, 150.0, 180.0, 210.0, 240.0}) {
    const double t = deg * kPi / 180.0, r = uniform(rng, 0.022, 0.032);
    s.push_back({b.cx + 0.86 * b.ax * std::cos(t), b.cy + 0.86 * b.ay * std::sin(t), r, r, 700, 40});
  }
  return s;
}

Shape lesion_shape(const Shape lungs[2], const LesionPlacement& p) {
  const Shape& l = lungs[p.lung == 1 ? 1 : 0];
  return Shape{l.cx + p.rho * l.ax * std::cos(p.phi), l.cy + p.rho * l.ay * std::sin(p.phi), p.radius, p.radius,
               p.hu, 12};
}

// Pixel index range [lo, hi) whose centers may fall inside [c - a, c + a].
std::pair<int64_t, int64_t> pixel_span(double c, double a, int64_t size) {
  const double half = size / 2.0;
  const auto lo = static_cast<int64_t>(std::floor((c - a + 1.0) * half - 0.5));
  const auto hi = static_cast<int64_t>(std::ceil((c + a + 1.0) * half - 0.5)) + 1;
  return {std::max<int64_t>(lo, 0), std::min(hi, size)};
}

template <typename Fn>
void for_each_pixel_in(const Shape& sh, int64_t size, Fn fn) {
  const auto [r0, r1] = pixel_span(sh.cy, sh.ay, size);
  const auto [c0, c1] = pixel_span(sh.cx, sh.ax, size);
  for (int64_t row = r0; row < r1; ++row) {
    const double y = (row + 0.5) / size * 2.0 - 1.0;
    for (int64_t col = c0; col < c1; ++col) {
      if (sh.contains((col + 0.5) / size * 2.0 - 1.0, y)) fn(row * size + col);
    }
  }
}

void paint(const Shape& sh, int64_t size, std::vector<float>& mean, std::vector<float>& sigma) {
  for_each_pixel_in(sh, size, [&](int64_t i) {
    mean[i] = static_cast<float>(sh.hu);
    sigma[i] = static_cast<float>(sh.sigma);
  });
}

// Box-Muller, both values of the pair.
std::pair<double, double> normal_pair(std::mt19937_64& rng) {
  const double r = std::sqrt(-2.0 * std::log(1.0 - uniform01(rng)));
  const double t = 2.0 * kPi * uniform01(rng);
  return {r * std::cos(t), r * std::sin(t)};
}

int16_t to_hu(double v) { return static_cast<int16_t>(std::clamp(std::round(v), -1024.0, 3071.0)); }

// `random_lesions` are drawn from the slice's own generator after the anatomy
// (the one-lesion phantom, whose pixels must not change); `placed` come from the caller.
Phantom render(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed, int random_lesions,
               std::vector<LesionPlacement> placed) {
  const Body body = draw_body(anatomy_seed);
  std::mt19937_64 rng(slice_seed);
  Shape lungs[2];
  std::vector<Shape> shapes = anatomy(body, rng, lungs);
  for (int i = 0; i < random_lesions; ++i) placed.push_back(draw_lesion_placement(rng, -1));
  Phantom out;
  out.size = size;
  const size_t n = static_cast<size_t>(size * size);
  out.mask.assign(n, 0);
  const double half = size / 2.0;
  for (const LesionPlacement& p : placed) {
    if (p.radius <= 0) continue;
    const Shape l = lesion_shape(lungs, p);
    shapes.push_back(l);
    for_each_pixel_in(l, size, [&](int64_t i) { out.mask[static_cast<size_t>(i)] = 1; });
    if (!out.lesion.present) out.lesion = {true, (l.cy + 1.0) * half - 0.5, (l.cx + 1.0) * half - 0.5, l.ax * half, l.hu};
  }
  // Paint each shape over its bounding box only (most shapes are small), then
  // add noise whose level follows the material on top.
  std::vector<float> mean(n, -1000.0f), sigma(n, 4.0f);  // air
  for (const Shape& sh : shapes) paint(sh, size, mean, sigma);
  out.hu.resize(n);
  for (size_t i = 0; i < n; i += 2) {
    const auto [z0, z1] = normal_pair(rng);
    out.hu[i] = to_hu(mean[i] + sigma[i] * z0);
    if (i + 1 < n) out.hu[i + 1] = to_hu(mean[i + 1] + sigma[i + 1] * z1);
  }
  return out;
}

}  // namespace

LesionPlacement draw_lesion_placement(std::mt19937_64& rng, int lung) {
  // Well inside the lung: juxtapleural lesions would blend into the wall.
  LesionPlacement p;
  p.lung = lung >= 0 ? lung : static_cast<int>(uniform_below(rng, 2));
  p.rho = 0.35 * std::sqrt(uniform01(rng));
  p.phi = uniform(rng, 0, 2 * kPi);
  p.radius = uniform(rng, 0.08, 0.14);
  p.hu = uniform(rng, 40, 80);
  return p;
}

Phantom render_ct_phantom(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed, bool lesion) {
  return render(size, anatomy_seed, slice_seed, lesion ? 1 : 0, {});
}

Phantom render_ct_phantom(int64_t size, uint64_t anatomy_seed, uint64_t slice_seed,
                          const std::vector<LesionPlacement>& lesions) {
  return render(size, anatomy_seed, slice_seed, 0, lesions);
}

}  // namespace medtrain::data
