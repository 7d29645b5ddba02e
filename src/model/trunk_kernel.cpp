#include "adgap/model/trunk_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "adgap/util/threads.h"
#include "conv1_pool.h"
#include "conv2_sums.h"

namespace adgap {

namespace {

using namespace kernel;

constexpr int64_t kMaxC1 = 32, kMaxC2 = 64;

int64_t round_up(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

struct Shape {
  int h = 0, w = 0;  // input size (multiples of 4)
  int pw = 0;        // padded input row length, conv1_row_length(w)
  int aw = 0;        // padded pooled row length, w / 2 + 4
};

// conv2 + ReLU + 2x2 max-pool at Q pooled positions side by side from (qy, qx), K vectors of
// filters (conv2_window_sums).
template <int K, int Q>
__attribute__((always_inline)) inline void conv2_pool_block(const TrunkKernelWeights& wt,
                                                            const Shape& s, const float* a,
                                                            float* out, int qy, int qx) {
  const int oh = s.h / 4, ow = s.w / 4;
  vf acc[Q][4][K];
  conv2_window_sums<K, Q>(wt, a, s.aw, wt.c1p, qy, qx, acc);
  for (int q = 0; q < Q; ++q) {
    for (int k = 0; k < K; ++k) {
      const vf m = relu(vmax(vmax(acc[q][0][k], acc[q][1][k]), vmax(acc[q][2][k], acc[q][3][k])));
      float lanes[kLanes];
      store(lanes, m);
      for (int l = 0; l < kLanes && k * kLanes + l < wt.c2; ++l) {
        out[(static_cast<int64_t>(k * kLanes + l) * oh + qy) * ow + qx + q] = lanes[l];
      }
    }
  }
}

// conv2 + ReLU + 2x2 max-pool of one image's padded pooled conv1 maps `a` ([y][x][c1p]) into
// `out` (c2 planes of (h/4) x (w/4)), K vectors of filters at a time.
template <int K>
__attribute__((always_inline)) inline void conv2_pool(const TrunkKernelWeights& wt,
                                                      const Shape& s, const float* a,
                                                      float* out) {
  const int oh = s.h / 4, ow = s.w / 4;
  constexpr int Q = K == 1 ? 2 : 1;  // registers: 8 sums and 16 inputs with one vector
  for (int qy = 0; qy < oh; ++qy) {
    int qx = 0;
    for (; qx + Q <= ow; qx += Q) conv2_pool_block<K, Q>(wt, s, a, out, qy, qx);
    for (; qx < ow; ++qx) conv2_pool_block<K, 1>(wt, s, a, out, qy, qx);
  }
}

// The pooled trunk of images [n0, n1) of x (n, h, w) into out (n, c2, h/4, w/4).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void trunk_images(
    const TrunkKernelWeights& wt, const Shape& s, const float* x, float* out, int64_t n0,
    int64_t n1) {
  const int64_t c1p = wt.c1p;
  std::vector<float> padded(static_cast<size_t>((s.h + 4) * s.pw), 0.0f);
  std::vector<float> a(static_cast<size_t>((s.h / 2 + 4) * s.aw * c1p), 0.0f);
  Conv1Geometry cg;
  cg.h = s.h;
  cg.w = s.w;
  cg.pw = s.pw;
  cg.aw = s.aw;
  cg.c1 = wt.c1;
  cg.c1p = c1p;
  cg.w1_stride = c1p;
  for (int64_t n = n0; n < n1; ++n) {
    const float* img = x + n * s.h * s.w;
    for (int y = 0; y < s.h; ++y) {
      std::memcpy(padded.data() + (y + 2) * s.pw + 2, img + y * s.w, sizeof(float) * s.w);
    }
    // conv1 + ReLU + 2x2 max-pool into the padded pooled maps (their 2-px border stays 0).
    conv1_pool(cg, padded.data(), wt.w1.data(), wt.b1.data(), a.data(), nullptr);
    float* o = out + n * wt.c2 * (s.h / 4) * (s.w / 4);
    switch (wt.c2p / kLanes) {
      case 1:
        conv2_pool<1>(wt, s, a.data(), o);
        break;
      case 2:
        conv2_pool<2>(wt, s, a.data(), o);
        break;
      case 3:
        conv2_pool<3>(wt, s, a.data(), o);
        break;
      default:
        conv2_pool<4>(wt, s, a.data(), o);
        break;
    }
  }
}

}  // namespace

bool trunk_kernel_supports(LeNet& net) {
  return lenet_trunk_5x5(net) && net->conv1->weight.size(0) <= kMaxC1 &&
         net->conv2->weight.size(0) <= kMaxC2;
}

TrunkKernelWeights TrunkKernelWeights::from(LeNet& net) {
  if (!trunk_kernel_supports(net)) {
    throw std::invalid_argument("trunk kernel: needs one input channel, 5x5 convolutions, at "
                                "most 32 and 64 filters");
  }
  TrunkKernelWeights w;
  w.c1 = net->conv1->weight.size(0);
  w.c2 = net->conv2->weight.size(0);
  w.c1p = round_up(w.c1);
  w.c2p = round_up(w.c2);
  const std::vector<float> w1 = floats_of(net->conv1->weight);  // (c1, 1, 5, 5)
  const std::vector<float> w2 = floats_of(net->conv2->weight);  // (c2, c1, 5, 5)
  const std::vector<float> b1 = floats_of(net->conv1->bias);
  const std::vector<float> b2 = floats_of(net->conv2->bias);
  w.w1.assign(kK * kK * w.c1p, 0.0f);
  w.b1.assign(w.c1p, 0.0f);
  w.w2.assign(w.c1 * kK * kK * w.c2p, 0.0f);
  w.b2.assign(w.c2p, 0.0f);
  for (int64_t c = 0; c < w.c1; ++c) {
    w.b1[c] = b1[c];
    for (int t = 0; t < kK * kK; ++t) w.w1[t * w.c1p + c] = w1[c * kK * kK + t];
  }
  for (int64_t o = 0; o < w.c2; ++o) {
    w.b2[o] = b2[o];
    for (int64_t c = 0; c < w.c1; ++c) {
      for (int t = 0; t < kK * kK; ++t) {
        w.w2[(c * kK * kK + t) * w.c2p + o] = w2[(o * w.c1 + c) * kK * kK + t];
      }
    }
  }
  return w;
}

at::Tensor pooled_trunk(const TrunkKernelWeights& wt, const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) % 4 == 0 && x.size(3) % 4 == 0 &&
                  x.size(2) > 0 && x.size(3) > 0,
              "pooled_trunk: expected (N, 1, H, W) with H and W multiples of 4, got ", x.sizes());
  const at::Tensor in = x.to(at::kFloat).contiguous();
  Shape s;
  s.h = static_cast<int>(in.size(2));
  s.w = static_cast<int>(in.size(3));
  s.pw = conv1_row_length(s.w);
  s.aw = s.w / 2 + 4;
  const int64_t n = in.size(0);
  at::Tensor out = at::empty({n, wt.c2, s.h / 4, s.w / 4});
  const float* xp = in.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, n, 16, [&](int64_t n0, int64_t n1) {
    trunk_images(wt, s, xp, op, n0, n1);
  });
  return out;
}

at::Tensor inference_trunk(LeNet& net, const at::Tensor& x) {
  const bool fits = x.dim() == 4 && x.size(1) == 1 && x.size(2) % 4 == 0 &&
                    x.size(3) % 4 == 0 && x.size(2) > 0 && x.size(3) > 0 &&
                    x.scalar_type() == at::kFloat;
  if (c10::GradMode::is_enabled() || !fits || !own_kernels_enabled() ||
      !trunk_kernel_supports(net)) {
    return net->trunk(x, TrunkMode::kPooled);
  }
  return pooled_trunk(TrunkKernelWeights::from(net), x);
}

at::Tensor inference_forward(LeNet& net, const at::Tensor& x) {
  return net->head(inference_trunk(net, x));
}

}  // namespace adgap
