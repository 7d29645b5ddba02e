// The scene generators' random numbers: a generator whose algorithm the standard fixes
// (mt19937_64), with the distributions written out so that a scene depends only on its seed,
// not on the standard library.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

namespace adgap::scene_detail {

struct Rng {
  std::mt19937_64 g;
  explicit Rng(uint64_t seed) : g(seed) {}
  double uniform() { return static_cast<double>(g() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  int integer(int a, int b) { return a + static_cast<int>(g() % static_cast<uint64_t>(b - a + 1)); }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller
    const double u = std::max(uniform(), 1e-300), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
  }
};

}  // namespace adgap::scene_detail
