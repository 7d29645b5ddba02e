// conv2's sums at Q pooled positions side by side, for the pooled-trunk kernels (inference,
// trunk_kernel.cpp; training, train_step.cpp), which differ only in what they keep of each
// 2x2 window (its maximum; also which one it was).
#pragma once

#include <cstdint>

#include "adgap/model/trunk_kernel.h"
#include "kernel_common.h"

namespace adgap::kernel {

// acc[q][d][k]: conv2 plus bias at window position d (0-3, row-major) of pooled position
// (qy, qx + q), filters [16 k, 16 k + 16), from the padded pooled conv1 maps `a` ([y][x][c1p],
// rows aw positions long). Each input of the 2 x (2Q + 4) a kernel row reads is loaded once
// for every tap and column that uses it (with one filter vector, two positions at once keep
// the multiply-adds, not the loads, the limit).
template <int K, int Q>
__attribute__((always_inline)) inline void conv2_window_sums(const TrunkKernelWeights& wt,
                                                             const float* a, int64_t aw,
                                                             int64_t c1p, int qy, int qx,
                                                             vf (&acc)[Q][4][K]) {
  constexpr int kRow = 2 * Q + kK - 1;  // inputs per row
  for (int q = 0; q < Q; ++q) {
    for (int p = 0; p < 4; ++p) {
      for (int k = 0; k < K; ++k) acc[q][p][k] = load(wt.b2.data() + k * kLanes);
    }
  }
  // The first window's top-left input, in the padded maps.
  const float* base = a + (static_cast<int64_t>(2 * qy) * aw + 2 * qx) * c1p;
  for (int64_t c = 0; c < wt.c1; ++c) {
    for (int ky = 0; ky < kK; ++ky) {
      float r0[kRow], r1[kRow];
      const float* ip = base + static_cast<int64_t>(ky) * aw * c1p + c;
      for (int j = 0; j < kRow; ++j) {
        r0[j] = ip[j * c1p];
        r1[j] = ip[(aw + j) * c1p];
      }
      const float* wp = wt.w2.data() + (c * kK + ky) * kK * wt.c2p;
      for (int kx = 0; kx < kK; ++kx) {
        for (int k = 0; k < K; ++k) {
          const vf wv = load(wp + kx * wt.c2p + k * kLanes);
          for (int q = 0; q < Q; ++q) {
            acc[q][0][k] += wv * r0[2 * q + kx];
            acc[q][1][k] += wv * r0[2 * q + kx + 1];
            acc[q][2][k] += wv * r1[2 * q + kx];
            acc[q][3][k] += wv * r1[2 * q + kx + 1];
          }
        }
      }
    }
  }
}

}  // namespace adgap::kernel
