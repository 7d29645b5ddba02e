// What adgap's own convolution kernels share (src/heatmap/paper_kernel.cpp,
// src/model/trunk_kernel.cpp): 16-float vectors (GCC vector extensions; each kernel is built
// for several instruction sets with target_clones), the trunk shape they handle, and the
// weights as plain floats.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "adgap/model/lenet.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // vector helpers are inlined: no ABI crosses

namespace adgap::kernel {

constexpr int kK = 5;       // kernel side
constexpr int kLanes = 16;  // floats per vector

typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kLanes * sizeof(int32_t))));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
inline vf relu(vf v) { return vmax(v, vf{}); }

// The maximum of a 2x2 window's four values (row-major) and which it was, the first of equal
// ones as LibTorch's pool; branch-free, as which one wins is data-dependent.
inline void first_max4(vf v0, vf v1, vf v2, vf v3, vf& best, vi& idx) {
  const vf v[4] = {v0, v1, v2, v3};
  best = v[0];
  idx = vi{};
  for (int d = 1; d < 4; ++d) {
    const vi more = v[d] > best;
    best = more ? v[d] : best;
    idx = more ? vi{} + d : idx;
  }
}

// One input channel and both convolutions 5x5 with biases; LeNet builds them with stride 1
// and padding 2 (lenet.cpp).
inline bool lenet_trunk_5x5(LeNet& net) {
  const at::Tensor& w1 = net->conv1->weight;
  const at::Tensor& w2 = net->conv2->weight;
  return w1.size(1) == 1 && w1.size(2) == kK && w1.size(3) == kK && w2.size(2) == kK &&
         w2.size(3) == kK && net->conv1->bias.defined() && net->conv2->bias.defined();
}

// A tensor's values as contiguous floats, in its memory order.
inline std::vector<float> floats_of(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace adgap::kernel
