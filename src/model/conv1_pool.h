// conv1 + ReLU + 2x2 max-pool of one image for the pooled-trunk kernels (inference,
// trunk_kernel.cpp; training, train_step.cpp), with output positions in vector lanes: each
// input vector is loaded once for all the filters of a block and both conv rows of a pooled
// row, so the work is throughput-bound multiply-adds rather than one 25-tap chain per
// position and filter (the channels-in-lanes form used 6 of 16 lanes for Table 1's conv1 and
// waited on each chain: it was the slowest part of the trunk).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernel_common.h"

namespace adgap::kernel {

// The padded input row length conv1_pool needs for images `w` wide: whole vectors of output
// positions, plus the 4 columns of padding.
inline int conv1_row_length(int w) { return (w + kLanes - 1) / kLanes * kLanes + 4; }

struct Conv1Geometry {
  int h = 0, w = 0;  // image size (multiples of 2)
  int pw = 0;        // padded input row length, conv1_row_length(w)
  int aw = 0;        // padded pooled row length, w / 2 + 4
  int64_t c1 = 0, c1p = 0;  // filters, and the channel stride of the maps a and i1 (>= c1)
  int64_t w1_stride = 0;     // the channel stride of the weights w1 and b1 (>= c1)
};

// Filters [c0, c0 + CB) over pooled row py. padded: (h + 4) x pw, the image at (2, 2), zeros
// around. w1: [tap][w1_stride], b1: [w1_stride]. Writes ReLU(max) into a ([y][x][c1p], the
// pooled maps at (2, 2)) and, when i1 is not null, the window's argmax (0-3 in row-major order, the first of
// equal values, as LibTorch) into i1 ([py][px][c1p]).
template <int CB>
__attribute__((always_inline)) inline void conv1_pool_block(const Conv1Geometry& g,
                                                            const float* padded, const float* w1,
                                                            const float* b1, int64_t c0, int py,
                                                            float* a, uint8_t* i1) {
  const int nv = (g.w + kLanes - 1) / kLanes;
  for (int v0 = 0; v0 < nv; v0 += 2) {
    const int vn = std::min(2, nv - v0);
    vf acc[CB][2][2];
    for (int c = 0; c < CB; ++c) {
      for (int r = 0; r < 2; ++r) {
        for (int v = 0; v < 2; ++v) acc[c][r][v] = vf{} + b1[c0 + c];
      }
    }
    // Input rows 2py .. 2py+5 feed conv row 2py (taps ky = ir) and 2py+1 (ky = ir - 1).
    for (int ir = 0; ir < kK + 1; ++ir) {
      const float* row = padded + static_cast<int64_t>(2 * py + ir) * g.pw + v0 * kLanes;
      for (int kx = 0; kx < kK; ++kx) {
        vf in[2];
        in[0] = load(row + kx);
        in[1] = vn > 1 ? load(row + kLanes + kx) : vf{};
        if (ir < kK) {
          const float* wp = w1 + (ir * kK + kx) * g.w1_stride + c0;
          for (int c = 0; c < CB; ++c) {
            const float wv = wp[c];
            acc[c][0][0] += in[0] * wv;
            acc[c][0][1] += in[1] * wv;
          }
        }
        if (ir > 0) {
          const float* wp = w1 + ((ir - 1) * kK + kx) * g.w1_stride + c0;
          for (int c = 0; c < CB; ++c) {
            const float wv = wp[c];
            acc[c][1][0] += in[0] * wv;
            acc[c][1][1] += in[1] * wv;
          }
        }
      }
    }
    // The 2x2 windows of pooled row py, pooled positions in lanes: even and odd columns of
    // both conv rows, then the first maximum of the four (branch-free: which one wins is
    // data-dependent and mispredicted branches cost more than the convolution).
    const vi even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    const vi odd = even + 1;
    const int px0 = v0 * kLanes / 2, px_end = std::min(g.w / 2, px0 + kLanes);
    for (int c = 0; c < CB; ++c) {
      vf best;
      vi idx;
      first_max4(__builtin_shuffle(acc[c][0][0], acc[c][0][1], even),
                 __builtin_shuffle(acc[c][0][0], acc[c][0][1], odd),
                 __builtin_shuffle(acc[c][1][0], acc[c][1][1], even),
                 __builtin_shuffle(acc[c][1][0], acc[c][1][1], odd), best, idx);
      float m[kLanes];
      store(m, relu(best));
      float* ap = a + (static_cast<int64_t>(py + 2) * g.aw + 2) * g.c1p + c0 + c;
      for (int px = px0; px < px_end; ++px) ap[px * g.c1p] = m[px - px0];
      if (i1) {
        uint8_t* ip = i1 + static_cast<int64_t>(py) * (g.w / 2) * g.c1p + c0 + c;
        for (int px = px0; px < px_end; ++px) ip[px * g.c1p] = static_cast<uint8_t>(idx[px - px0]);
      }
    }
  }
}

// All filters and pooled rows of one image (see conv1_pool_block).
__attribute__((always_inline)) inline void conv1_pool(const Conv1Geometry& g, const float* padded,
                                                      const float* w1, const float* b1, float* a,
                                                      uint8_t* i1) {
  for (int py = 0; py < g.h / 2; ++py) {
    int64_t c0 = 0;
    for (; c0 + 6 <= g.c1; c0 += 6) conv1_pool_block<6>(g, padded, w1, b1, c0, py, a, i1);
    switch (g.c1 - c0) {
      case 5:
        conv1_pool_block<5>(g, padded, w1, b1, c0, py, a, i1);
        break;
      case 4:
        conv1_pool_block<4>(g, padded, w1, b1, c0, py, a, i1);
        break;
      case 3:
        conv1_pool_block<3>(g, padded, w1, b1, c0, py, a, i1);
        break;
      case 2:
        conv1_pool_block<2>(g, padded, w1, b1, c0, py, a, i1);
        break;
      case 1:
        conv1_pool_block<1>(g, padded, w1, b1, c0, py, a, i1);
        break;
      default:
        break;
    }
  }
}

}  // namespace adgap::kernel
