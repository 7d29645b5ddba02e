#include "adgap/train/train_step.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "../model/conv1_pool.h"
#include "../model/conv2_sums.h"
#include "adgap/model/trunk_kernel.h"

namespace adgap {

namespace {

using namespace kernel;

constexpr int kTaps = kK * kK;
constexpr int64_t kChunk = 32;  // images per fixed chunk of the backward pass

inline float hsum(vf v) {
  float t[kLanes];
  store(t, v);
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += t[l];
  return s;
}

struct Geometry {
  int h = 0, w = 0;      // input
  int pw = 0;            // padded input row length
  int ph2 = 0, pw2 = 0;  // pooled conv1 maps
  int aw = 0;            // padded pooled row length, w / 2 + 4
  int oh = 0, ow = 0;    // output maps
  int64_t c1 = 0, c2 = 0, c1p = 0, c2p = 0;
  // Up to 8 conv1 filters: the pooled maps hold 8 channels per position, and conv2's backward
  // pass puts two neighbouring taps in one 16-float vector (Table 1's 6 filters would fill 6
  // of 16 lanes otherwise).
  bool pair = false;
  int64_t w1_stride = 0;  // the weights' channel stride (TrunkKernelWeights::c1p)
  int64_t a_size = 0;   // floats per image of the padded pooled conv1 maps, [y][x][c1p]
  int64_t i1_size = 0;  // pool1 argmax per image, [py][px][c1p]
  int64_t out_size = 0;  // c2 * oh * ow

  Conv1Geometry conv1() const {
    Conv1Geometry g;
    g.h = h;
    g.w = w;
    g.pw = pw;
    g.aw = aw;
    g.c1 = c1;
    g.c1p = c1p;
    g.w1_stride = w1_stride;
    return g;
  }
};

Geometry geometry(int64_t h, int64_t w, const TrunkKernelWeights& wt) {
  Geometry g;
  g.h = static_cast<int>(h);
  g.w = static_cast<int>(w);
  g.ph2 = g.h / 2;
  g.pw2 = g.w / 2;
  // conv1_pool reads whole vectors of positions; the backward pass two vectors at stride 2
  // from each of six column shifts.
  g.pw = std::max(conv1_row_length(g.w), (g.pw2 + kLanes - 1) / kLanes * 2 * kLanes + kK + 1);
  g.aw = g.pw2 + 4;
  g.oh = g.h / 4;
  g.ow = g.w / 4;
  g.c1 = wt.c1;
  g.c2 = wt.c2;
  g.pair = wt.c1 <= kLanes / 2;
  g.c1p = g.pair ? kLanes / 2 : wt.c1p;
  g.w1_stride = wt.c1p;
  g.c2p = wt.c2p;
  g.a_size = static_cast<int64_t>(g.ph2 + 4) * g.aw * g.c1p;
  g.i1_size = static_cast<int64_t>(g.ph2) * g.pw2 * g.c1p;
  g.out_size = g.c2 * g.oh * g.ow;
  return g;
}

// conv2 + ReLU + max-pool at Q pooled positions side by side from (qy, qx) of one image's
// padded pooled conv1 maps `a` into `out` (c2 planes of oh x ow) and the pool's argmax into i2
// (same layout), K vectors of filters (conv2_window_sums).
template <int K, int Q>
__attribute__((always_inline)) inline void conv2_block(const TrunkKernelWeights& wt,
                                                       const Geometry& g, const float* a,
                                                       float* out, uint8_t* i2, int qy, int qx) {
  vf acc[Q][4][K];
  conv2_window_sums<K, Q>(wt, a, g.aw, g.c1p, qy, qx, acc);
  for (int q = 0; q < Q; ++q) {
    for (int k = 0; k < K; ++k) {
      vf best;
      vi idx;
      first_max4(acc[q][0][k], acc[q][1][k], acc[q][2][k], acc[q][3][k], best, idx);
      float r[kLanes];
      store(r, relu(best));
      for (int l = 0; l < kLanes && k * kLanes + l < g.c2; ++l) {
        const int64_t o = (static_cast<int64_t>(k * kLanes + l) * g.oh + qy) * g.ow + qx + q;
        out[o] = r[l];
        i2[o] = static_cast<uint8_t>(idx[l]);
      }
    }
  }
}

template <int K>
__attribute__((always_inline)) inline void conv2_forward(const TrunkKernelWeights& wt,
                                                         const Geometry& g, const float* a,
                                                         float* out, uint8_t* i2) {
  constexpr int Q = K == 1 ? 2 : 1;  // registers: 8 sums and 16 inputs with one vector
  for (int qy = 0; qy < g.oh; ++qy) {
    int qx = 0;
    for (; qx + Q <= g.ow; qx += Q) conv2_block<K, Q>(wt, g, a, out, i2, qy, qx);
    for (; qx < g.ow; ++qx) conv2_block<K, 1>(wt, g, a, out, i2, qy, qx);
  }
}

// The forward pass of images [n0, n1) of x (n, h, w): out (n, c2, oh, ow), and what the
// backward pass needs (a, i1, i2).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
forward_images(const TrunkKernelWeights& wt, const Geometry& g, const float* x, float* out,
               float* a, uint8_t* i1, uint8_t* i2, int64_t n0, int64_t n1) {
  std::vector<float> padded(static_cast<size_t>((g.h + 4) * g.pw), 0.0f);
  const Conv1Geometry cg = g.conv1();
  for (int64_t n = n0; n < n1; ++n) {
    for (int y = 0; y < g.h; ++y) {
      std::memcpy(padded.data() + (y + 2) * g.pw + 2, x + (n * g.h + y) * g.w,
                  sizeof(float) * g.w);
    }
    float* an = a + n * g.a_size;
    conv1_pool(cg, padded.data(), wt.w1.data(), wt.b1.data(), an, i1 + n * g.i1_size);
    float* on = out + n * g.out_size;
    uint8_t* i2n = i2 + n * g.out_size;
    switch (g.c2p / kLanes) {
      case 1:
        conv2_forward<1>(wt, g, an, on, i2n);
        break;
      case 2:
        conv2_forward<2>(wt, g, an, on, i2n);
        break;
      case 3:
        conv2_forward<3>(wt, g, an, on, i2n);
        break;
      default:
        conv2_forward<4>(wt, g, an, on, i2n);
        break;
    }
  }
}

// An output that passes a gradient: its value and where it came from (a position of the
// pooled conv1 maps, or a filter).
struct Active {
  float grad;
  int32_t index;
};

// conv2's weight and input gradients of one image for up to 8 conv1 filters (Geometry::pair):
// the pooled maps hold 8 channels per position, so one 16-float vector holds two neighbouring
// taps of a kernel row (the third vector of a row holds tap 4 and a fifth, zero-weighted one):
// 15 multiply-adds per active output instead of 25. w2p: conv2's weights as
// [o][ky][3][2 taps][8]; dw2 [o][25][8] and ga (the pooled maps' gradient, [y][x][8], with a
// vector of slack after it) are added to. The third vector of a row also reads (and, for ga,
// adds zero to) the position after the row's last: the next row's first, or the slack.
__attribute__((always_inline)) inline void conv2_gradients_paired(
    const Geometry& g, const float* w2p, const float* an, const Active* by_filter,
    const int32_t* filter_count, int64_t per_filter, const Active* by_position,
    const int32_t* position_count, float* dw2, float* ga) {
  constexpr int kC = kLanes / 2, kV = (kK + 1) / 2;  // channels per position, vectors per row
  const int64_t row = static_cast<int64_t>(g.aw) * kC;
  for (int64_t o = 0; o < g.c2; ++o) {
    const Active* const e0 = by_filter + o * per_filter;
    const Active* const e1 = e0 + filter_count[o];
    if (e0 == e1) continue;
    vf acc[kK][kV] = {};
    for (const Active* e = e0; e != e1; ++e) {
      const float* base = an + static_cast<int64_t>(e->index) * kC;
      const float gv = e->grad;
      for (int ky = 0; ky < kK; ++ky) {
        for (int v = 0; v < kV; ++v) acc[ky][v] += load(base + ky * row + v * kLanes) * gv;
      }
    }
    float* dw = dw2 + o * kTaps * kC;
    for (int ky = 0; ky < kK; ++ky) {
      for (int v = 0; v < kV; ++v) {
        float t[kLanes];
        store(t, acc[ky][v]);
        for (int h = 0; h < 2 && 2 * v + h < kK; ++h) {
          float* d = dw + (ky * kK + 2 * v + h) * kC;
          for (int c = 0; c < kC; ++c) d[c] += t[h * kC + c];
        }
      }
    }
  }
  const int64_t positions = static_cast<int64_t>(g.ph2) * g.pw2;
  for (int64_t p = 0; p < positions; ++p) {
    const Active* const e0 = by_position + p * g.c2;
    const Active* const e1 = e0 + position_count[p];
    if (e0 == e1) continue;
    vf acc[kK][kV] = {};
    for (const Active* e = e0; e != e1; ++e) {
      const float* wp = w2p + static_cast<int64_t>(e->index) * kK * kV * kLanes;
      const float gv = e->grad;
      for (int ky = 0; ky < kK; ++ky) {
        for (int v = 0; v < kV; ++v) acc[ky][v] += load(wp + (ky * kV + v) * kLanes) * gv;
      }
    }
    const int64_t y = p / g.pw2, xx = p % g.pw2;
    float* gp = ga + (y * g.aw + xx) * kC;
    for (int ky = 0; ky < kK; ++ky) {
      for (int v = 0; v < kV; ++v) {
        float* q = gp + ky * row + v * kLanes;
        store(q, load(q) + acc[ky][v]);
      }
    }
  }
}

// The trunk's parameter gradients of images [n0, n1), written to sums: dw1 [25][c1p], db1
// [c1p], dw2 [c2][25][c1p], db2 [c2], in that order (sums_size floats). go: the gradient of
// the output (n, c2, oh, ow); w2o: conv2's weights as [o][25][c1p], or for a paired geometry
// as conv2_gradients_paired takes them.
int64_t sums_size(const Geometry& g) { return kTaps * g.c1p + g.c1p + g.c2 * kTaps * g.c1p + g.c2; }

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
backward_images(const Geometry& g, const float* w2o, const float* x, const float* go,
                const float* out, const float* a, const uint8_t* i1, const uint8_t* i2,
                float* sums, int64_t n0, int64_t n1) {
  const int64_t s1 = kTaps * g.c1p, s2 = g.c2 * kTaps * g.c1p, kc = g.c1p / kLanes;
  const int nvb = (g.pw2 + kLanes - 1) / kLanes;  // vectors of pooled columns
  std::vector<float> padded(static_cast<size_t>((g.h + 4) * g.pw), 0.0f);
  // The gradient of the pooled conv1 maps, with a vector of slack (conv2_gradients_paired).
  std::vector<float> ga(static_cast<size_t>(g.a_size + kLanes));
  std::vector<float> e_rows(static_cast<size_t>(nvb * (g.h + 4) * (kK + 1) * kLanes));
  // Each image's gradients are summed on their own, then added to the chunk's.
  std::vector<float> mine(static_cast<size_t>(sums_size(g)));
  float* const dw1 = mine.data();
  float* const db1 = dw1 + s1;
  float* const dw2 = db1 + g.c1p;
  float* const db2 = dw2 + s2;
  std::fill(sums, sums + sums_size(g), 0.0f);
  // The active outputs by filter ([o][up to oh*ow]) and by conv2 position ([p][up to c2]).
  const int64_t per_filter = static_cast<int64_t>(g.oh) * g.ow;
  const int64_t positions = static_cast<int64_t>(g.ph2) * g.pw2;
  std::vector<Active> by_filter(static_cast<size_t>(g.c2 * per_filter));
  std::vector<int32_t> filter_count(static_cast<size_t>(g.c2));
  std::vector<Active> by_position(static_cast<size_t>(positions * g.c2));
  std::vector<int32_t> position_count(static_cast<size_t>(positions));
  int64_t tap_off[kTaps];  // offsets of the 25 taps in the padded pooled maps
  for (int t = 0; t < kTaps; ++t) {
    tap_off[t] = (static_cast<int64_t>(t / kK) * g.aw + t % kK) * g.c1p;
  }
  const vi even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};

  for (int64_t n = n0; n < n1; ++n) {
    const float* an = a + n * g.a_size;
    std::fill(ga.begin(), ga.end(), 0.0f);
    std::fill(mine.begin(), mine.end(), 0.0f);
    std::fill(filter_count.begin(), filter_count.end(), 0);
    std::fill(position_count.begin(), position_count.end(), 0);
    // conv2: only each window's maximum, and only where the ReLU passed it, gets a gradient
    // (collected branch-free: which outputs do is data-dependent).
    for (int64_t o = 0; o < g.c2; ++o) {
      for (int qy = 0; qy < g.oh; ++qy) {
        for (int qx = 0; qx < g.ow; ++qx) {
          const int64_t i = n * g.out_size + (o * g.oh + qy) * g.ow + qx;
          const bool on = out[i] > 0.0f;
          const float gv = on ? go[i] : 0.0f;
          db2[o] += gv;
          const int y = 2 * qy + (i2[i] >> 1), xx = 2 * qx + (i2[i] & 1);
          by_filter[o * per_filter + filter_count[o]] = {gv, static_cast<int32_t>(y * g.aw + xx)};
          filter_count[o] += on;
          const int64_t p = static_cast<int64_t>(y) * g.pw2 + xx;
          by_position[p * g.c2 + position_count[p]] = {gv, static_cast<int32_t>(o)};
          position_count[p] += on;
        }
      }
    }
    if (g.pair) {
      conv2_gradients_paired(g, w2o, an, by_filter.data(), filter_count.data(), per_filter,
                             by_position.data(), position_count.data(), dw2, ga.data());
    } else {
      // conv2's weights: per filter, the 25 taps' sums in registers over its active outputs.
      for (int64_t o = 0; o < g.c2; ++o) {
        const Active* const e0 = by_filter.data() + o * per_filter;
        const Active* const e1 = e0 + filter_count[o];
        if (e0 == e1) continue;
        for (int64_t k = 0; k < kc; ++k) {
          vf acc[kTaps];
  #pragma GCC unroll 25
          for (int t = 0; t < kTaps; ++t) acc[t] = vf{};
          for (const Active* e = e0; e != e1; ++e) {
            const float* base = an + static_cast<int64_t>(e->index) * g.c1p + k * kLanes;
            const float gv = e->grad;
  #pragma GCC unroll 25
            for (int t = 0; t < kTaps; ++t) acc[t] += load(base + tap_off[t]) * gv;
          }
          float* dw = dw2 + o * kTaps * g.c1p + k * kLanes;
  #pragma GCC unroll 25
          for (int t = 0; t < kTaps; ++t) store(dw + t * g.c1p, load(dw + t * g.c1p) + acc[t]);
        }
      }
      // conv2's input: per position, the 25 taps' sums in registers over the outputs it feeds.
      for (int y = 0; y < g.ph2; ++y) {
        for (int xx = 0; xx < g.pw2; ++xx) {
          const int64_t p = static_cast<int64_t>(y) * g.pw2 + xx;
          const Active* const e0 = by_position.data() + p * g.c2;
          const Active* const e1 = e0 + position_count[p];
          if (e0 == e1) continue;
          const int64_t off0 = (static_cast<int64_t>(y) * g.aw + xx) * g.c1p;
          for (int64_t k = 0; k < kc; ++k) {
            vf acc[kTaps];
  #pragma GCC unroll 25
            for (int t = 0; t < kTaps; ++t) acc[t] = vf{};
            for (const Active* e = e0; e != e1; ++e) {
              const float* wp = w2o + static_cast<int64_t>(e->index) * kTaps * g.c1p + k * kLanes;
              const float gv = e->grad;
  #pragma GCC unroll 25
              for (int t = 0; t < kTaps; ++t) acc[t] += load(wp + t * g.c1p) * gv;
            }
            float* gp = ga.data() + off0 + k * kLanes;
  #pragma GCC unroll 25
            for (int t = 0; t < kTaps; ++t) store(gp + tap_off[t], load(gp + tap_off[t]) + acc[t]);
          }
        }
      }
    }
    // conv1's weights, through the ReLU and the first pool, pooled columns in lanes: every
    // padded input row at stride 2 from each of six column shifts (e_rows, [vb][row][shift]),
    // then per filter the 25 taps' sums in registers over the image.
    for (int y = 0; y < g.h; ++y) {
      std::memcpy(padded.data() + (y + 2) * g.pw + 2, x + (n * g.h + y) * g.w,
                  sizeof(float) * g.w);
    }
    for (int vb = 0; vb < nvb; ++vb) {
      for (int r = 0; r < g.h + 4; ++r) {
        for (int sh = 0; sh < kK + 1; ++sh) {
          const float* rp = padded.data() + static_cast<int64_t>(r) * g.pw + sh + vb * 2 * kLanes;
          store(e_rows.data() + ((static_cast<int64_t>(vb) * (g.h + 4) + r) * (kK + 1) + sh) * kLanes,
                __builtin_shuffle(load(rp), load(rp + kLanes), even));
        }
      }
    }
    const uint8_t* i1n = i1 + n * g.i1_size;
    for (int64_t c = 0; c < g.c1; ++c) {
      vf acc[kTaps];
#pragma GCC unroll 25
      for (int t = 0; t < kTaps; ++t) acc[t] = vf{};
      vf accb = {};
      for (int py = 0; py < g.ph2; ++py) {
        for (int vb = 0; vb < nvb; ++vb) {
          float gl[kLanes];
          vi idx = {};
          for (int l = 0; l < kLanes; ++l) {
            const int px = vb * kLanes + l;
            if (px < g.pw2) {
              const int64_t off = (static_cast<int64_t>(py + 2) * g.aw + px + 2) * g.c1p + c;
              gl[l] = an[off] > 0.0f ? ga[off] : 0.0f;
              idx[l] = i1n[(static_cast<int64_t>(py) * g.pw2 + px) * g.c1p + c];
            } else {
              gl[l] = 0.0f;
              idx[l] = 0;
            }
          }
          const vf gv = load(gl);
          accb += gv;
          for (int d = 0; d < 4; ++d) {
            const vf gd = idx == d ? gv : vf{};
            const float* eb =
                e_rows.data() +
                ((static_cast<int64_t>(vb) * (g.h + 4) + 2 * py + (d >> 1)) * (kK + 1) + (d & 1)) *
                    kLanes;
#pragma GCC unroll 25
            for (int t = 0; t < kTaps; ++t) {
              acc[t] += gd * load(eb + ((t / kK) * (kK + 1) + t % kK) * kLanes);
            }
          }
        }
      }
      for (int t = 0; t < kTaps; ++t) dw1[t * g.c1p + c] = hsum(acc[t]);
      db1[c] = hsum(accb);
    }
    const int64_t total = sums_size(g);
    int64_t i = 0;
    for (; i + kLanes <= total; i += kLanes) store(sums + i, load(sums + i) + load(mine.data() + i));
    for (; i < total; ++i) sums[i] += mine[i];
  }
}

// out = a * b^T + bias (bias may be undefined) for rows of a split in two halves run in
// parallel (each an sgemm of its own: the result does not depend on the thread count).
void linear_rows(const at::Tensor& a, const at::Tensor& weight, const at::Tensor& bias,
                 at::Tensor& out) {
  const int64_t n = a.size(0), half = (n + 1) / 2;
  at::parallel_for(0, 2, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r0 = p * half, rn = std::min(n, r0 + half) - r0;
      if (rn <= 0) continue;
      at::Tensor o = out.narrow(0, r0, rn);
      if (bias.defined()) {
        at::addmm_out(o, bias, a.narrow(0, r0, rn), weight.t());
      } else {
        at::mm_out(o, a.narrow(0, r0, rn), weight);
      }
    }
  });
}

}  // namespace

bool KernelTrainStep::supports(LeNet& net, int64_t h, int64_t w) {
  return trunk_kernel_supports(net) && h > 0 && w > 0 && h % 4 == 0 && w % 4 == 0 &&
         net->fc1->bias.defined() && net->fc2->bias.defined() && net->fc3->bias.defined();
}

StepResult KernelTrainStep::gradients(LeNet& net, const at::Tensor& x_in, const at::Tensor& y) {
  TORCH_CHECK(x_in.dim() == 4 && x_in.size(1) == 1 && supports(net, x_in.size(2), x_in.size(3)),
              "KernelTrainStep: network or input not supported, input ", x_in.sizes());
  TORCH_CHECK(y.dim() == 1 && y.size(0) == x_in.size(0), "KernelTrainStep: labels ", y.sizes(),
              " for images ", x_in.sizes());
  const c10::AutoGradMode no_grad(false);
  const at::Tensor x = x_in.to(at::kFloat).contiguous();
  const TrunkKernelWeights wt = TrunkKernelWeights::from(net);
  const Geometry g = geometry(x.size(2), x.size(3), wt);
  const int64_t n = x.size(0);

  // Buffers: zeroed when the geometry changes or they grow (the parts never written stay 0).
  if (a_size_ != g.a_size || i1_size_ != g.i1_size || c1_ != g.c1) {
    a_.clear();
    i1_.clear();
    a_size_ = g.a_size;
    i1_size_ = g.i1_size;
    c1_ = g.c1;
  }
  // A vector of slack after the last image (conv2_gradients_paired reads past a row's end).
  if (static_cast<int64_t>(a_.size()) < n * g.a_size + kLanes) a_.resize(n * g.a_size + kLanes, 0.0f);
  if (static_cast<int64_t>(i1_.size()) < n * g.i1_size) i1_.resize(n * g.i1_size, 0);
  if (static_cast<int64_t>(i2_.size()) < n * g.out_size) i2_.resize(n * g.out_size, 0);

  // Trunk.
  at::Tensor trunk = at::empty({n, g.c2, g.oh, g.ow});
  const float* xp = x.data_ptr<float>();
  at::parallel_for(0, n, 8, [&](int64_t n0, int64_t n1) {
    forward_images(wt, g, xp, trunk.data_ptr<float>(), a_.data(), i1_.data(), i2_.data(), n0, n1);
  });

  // Head: fc1 ReLU fc2 ReLU fc3 log-softmax, NLL.
  const at::Tensor f = trunk.view({n, g.out_size});
  const at::Tensor w1 = net->fc1->weight.detach(), w2 = net->fc2->weight.detach(),
                   w3 = net->fc3->weight.detach();
  at::Tensor h1 = at::empty({n, w1.size(0)});
  linear_rows(f, w1, net->fc1->bias.detach(), h1);
  h1.relu_();
  const at::Tensor h2 = at::addmm(net->fc2->bias.detach(), h1, w2.t()).relu_();
  const at::Tensor logp =
      at::log_softmax(at::addmm(net->fc3->bias.detach(), h2, w3.t()), /*dim=*/1);
  StepResult r;
  r.loss = at::nll_loss(logp, y).item<float>();
  r.correct = logp.argmax(1).eq(y).sum().item<int64_t>();

  // Backward through the head: d(loss)/d(logits) = (softmax - one-hot) / n.
  at::Tensor dz3 = logp.exp();
  dz3.scatter_add_(1, y.unsqueeze(1), at::full({n, 1}, -1.0f));
  dz3.div_(static_cast<double>(n));
  const at::Tensor gw3 = dz3.t().mm(h2), gb3 = dz3.sum(0);
  const at::Tensor dh2 = dz3.mm(w3).mul_(h2.gt(0));
  const at::Tensor gw2 = dh2.t().mm(h1), gb2 = dh2.sum(0);
  const at::Tensor dh1 = dh2.mm(w2).mul_(h1.gt(0));
  const at::Tensor gb1 = dh1.sum(0);
  // fc1's weight gradient (120 x 784 in Table 1) in two halves of its columns, and the trunk
  // output's gradient in two halves of the batch.
  at::Tensor gw1 = at::empty({w1.size(0), g.out_size});
  const at::Tensor dh1t = dh1.t();
  const int64_t half_cols = (g.out_size + 1) / 2;
  at::parallel_for(0, 2, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c0 = p * half_cols, cn = std::min(g.out_size, c0 + half_cols) - c0;
      if (cn <= 0) continue;
      at::Tensor o = gw1.narrow(1, c0, cn);
      at::mm_out(o, dh1t, f.narrow(1, c0, cn));
    }
  });
  at::Tensor dtrunk = at::empty({n, g.out_size});
  linear_rows(dh1, w1, at::Tensor(), dtrunk);

  // Backward through the trunk, in fixed chunks summed in order.
  // conv2's weights as [o][25][c1p], or paired: [o][ky][3][2 taps][8], the sixth tap zero.
  const at::Tensor cw2 = net->conv2->weight.detach().reshape({g.c2, g.c1, kK, kK});
  const at::Tensor w2o =
      g.pair ? at::constant_pad_nd(cw2.permute({0, 2, 3, 1}), {0, g.c1p - g.c1, 0, 1})
                   .contiguous()
             : at::constant_pad_nd(cw2.reshape({g.c2, g.c1, kTaps}).permute({0, 2, 1}),
                                   {0, g.c1p - g.c1})
                   .contiguous();
  const int64_t chunks = (n + kChunk - 1) / kChunk, ss = sums_size(g);
  at::Tensor sums = at::empty({chunks, ss});
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      backward_images(g, w2o.data_ptr<float>(), xp, dtrunk.data_ptr<float>(),
                      trunk.data_ptr<float>(), a_.data(), i1_.data(), i2_.data(),
                      sums.data_ptr<float>() + c * ss, c * kChunk, std::min(n, (c + 1) * kChunk));
    }
  });
  at::Tensor total = sums[0].clone();
  for (int64_t c = 1; c < chunks; ++c) total += sums[c];
  const int64_t s1 = kTaps * g.c1p, s2 = g.c2 * kTaps * g.c1p;
  const at::Tensor gcw1 = total.narrow(0, 0, s1).view({kTaps, g.c1p}).narrow(1, 0, g.c1).t()
                              .reshape({g.c1, 1, kK, kK});
  const at::Tensor gcb1 = total.narrow(0, s1, g.c1).clone();
  const at::Tensor gcw2 = total.narrow(0, s1 + g.c1p, s2)
                              .view({g.c2, kTaps, g.c1p})
                              .narrow(2, 0, g.c1)
                              .permute({0, 2, 1})
                              .reshape({g.c2, g.c1, kK, kK});
  const at::Tensor gcb2 = total.narrow(0, s1 + g.c1p + s2, g.c2).clone();

  const std::pair<at::Tensor*, at::Tensor> grads[] = {
      {&net->conv1->weight, gcw1}, {&net->conv1->bias, gcb1}, {&net->conv2->weight, gcw2},
      {&net->conv2->bias, gcb2},   {&net->fc1->weight, gw1},  {&net->fc1->bias, gb1},
      {&net->fc2->weight, gw2},    {&net->fc2->bias, gb2},    {&net->fc3->weight, gw3},
      {&net->fc3->bias, gb3}};
  for (const auto& [param, grad] : grads) {
    // Optimisers detach and zero gradients in place, which views do not allow.
    const bool plain = grad.sizes() == param->sizes() && grad.is_contiguous() && !grad.is_view();
    param->mutable_grad() = plain ? grad : grad.reshape(param->sizes()).clone();
  }
  return r;
}

}  // namespace adgap
