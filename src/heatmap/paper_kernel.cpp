#include "adgap/heatmap/paper_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "../model/kernel_common.h"

namespace adgap {

namespace {

using namespace kernel;

constexpr int kPad = 2;             // zero padding of both convolutions
constexpr int kBlock = 2 * kLanes;  // output pixels per step of conv2
constexpr int kGroup = 8;           // conv2 filters accumulated at once (2 x 8 accumulators)

struct Planes {
  int h = 0, w = 0, wb = 0;  // crop size, output columns computed (w rounded up to kBlock)
  int64_t sx = 0, s1 = 0;    // row strides of the padded input and of conv1's planes
};

// conv1 + ReLU of input rows [y0, y1) into conv1's zero-padded planes.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void conv1_rows(
    const PaperKernelWeights& wt, const Planes& p, const float* x, float* c1, int y0, int y1) {
  for (int64_t c = 0; c < wt.c1; ++c) {
    const float* k = wt.w1.data() + c * kK * kK;
    for (int y = y0; y < y1; ++y) {
      float* dst = c1 + (c * (p.h + 2 * kPad) + y + kPad) * p.s1 + kPad;
      for (int x0 = 0; x0 < p.wb; x0 += kLanes) {
        vf acc = vf{} + wt.b1[c];
        for (int ky = 0; ky < kK; ++ky) {
          const float* r = x + (y + ky) * p.sx + x0;
          for (int kx = 0; kx < kK; ++kx) acc += load(r + kx) * k[ky * kK + kx];
        }
        store(dst + x0, relu(acc));
      }
      // Beyond the crop's right edge conv2 must see zeros (its own padding).
      std::fill(dst + p.w, c1 + (c * (p.h + 2 * kPad) + y + kPad + 1) * p.s1, 0.0f);
    }
  }
}

// G of conv2's filters from o on, at output row y, pixels [x0, x0 + 32): ReLU'd and mixed
// into s0, s1.
template <int G>
__attribute__((always_inline)) inline void conv2_group(const PaperKernelWeights& wt,
                                                       const Planes& p, const float* c1, int y,
                                                       int x0, int64_t o, vf& s0, vf& s1) {
  vf a0[G], a1[G];
  for (int j = 0; j < G; ++j) a0[j] = a1[j] = vf{} + wt.b2[o + j];
  for (int64_t c = 0; c < wt.c1; ++c) {
    for (int ky = 0; ky < kK; ++ky) {
      const float* r = c1 + (c * (p.h + 2 * kPad) + y + ky) * p.s1 + x0;
      const float* k = wt.w2.data() + ((c * kK + ky) * kK) * wt.c2 + o;
      for (int kx = 0; kx < kK; ++kx, k += wt.c2) {
        const vf v0 = load(r + kx), v1 = load(r + kx + kLanes);
        for (int j = 0; j < G; ++j) {
          a0[j] += v0 * k[j];
          a1[j] += v1 * k[j];
        }
      }
    }
  }
  for (int j = 0; j < G; ++j) {
    s0 += relu(a0[j]) * wt.mix[o + j];
    s1 += relu(a1[j]) * wt.mix[o + j];
  }
}

// conv2 + ReLU + the weighted sum for output rows [y0, y1).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void conv2_rows(
    const PaperKernelWeights& wt, const Planes& p, const float* c1, cv::Mat& out, int y0,
    int y1) {
  std::vector<float> row(static_cast<size_t>(p.wb));
  for (int y = y0; y < y1; ++y) {
    for (int x0 = 0; x0 < p.wb; x0 += kBlock) {
      vf s0 = {}, s1 = {};
      int64_t o = 0;
      for (; o + kGroup <= wt.c2; o += kGroup) conv2_group<kGroup>(wt, p, c1, y, x0, o, s0, s1);
      for (; o + 4 <= wt.c2; o += 4) conv2_group<4>(wt, p, c1, y, x0, o, s0, s1);
      for (; o < wt.c2; ++o) conv2_group<1>(wt, p, c1, y, x0, o, s0, s1);
      store(row.data() + x0, s0);
      store(row.data() + x0 + kLanes, s1);
    }
    std::memcpy(out.ptr<float>(y), row.data(), sizeof(float) * p.w);
  }
}

}  // namespace

PaperKernelWeights PaperKernelWeights::from(LeNet& net, const std::vector<float>& mix) {
  if (!paper_kernel_supports(net)) {
    throw std::invalid_argument("paper kernel: needs one input channel and 5x5 convolutions");
  }
  if (static_cast<int64_t>(mix.size()) != net->trunk_channels()) {
    throw std::invalid_argument("paper kernel: need " + std::to_string(net->trunk_channels()) +
                                " weights, got " + std::to_string(mix.size()));
  }
  PaperKernelWeights w;
  w.c1 = net->conv1->weight.size(0);
  w.c2 = net->conv2->weight.size(0);
  w.w1 = floats_of(net->conv1->weight);  // (c1, 1, 5, 5)
  w.b1 = floats_of(net->conv1->bias);
  w.w2 = floats_of(net->conv2->weight.permute({1, 2, 3, 0}));  // -> (c1, 5, 5, c2)
  w.b2 = floats_of(net->conv2->bias);
  w.mix = mix;
  return w;
}

bool paper_kernel_supports(LeNet& net) { return lenet_trunk_5x5(net); }

cv::Mat paper_map(const PaperKernelWeights& wt, const cv::Mat& gray, bool invert, double scale,
                  double offset) {
  if (gray.empty() || gray.type() != CV_8UC1) {
    throw std::invalid_argument("paper_map: expected a non-empty 8-bit grayscale image");
  }
  Planes p;
  p.h = gray.rows;
  p.w = gray.cols;
  p.wb = (p.w + kBlock - 1) / kBlock * kBlock;
  p.sx = p.wb + 2 * kPad + kLanes;  // vector reads run up to 3 floats past wb + 1
  p.s1 = p.sx;
  // The input, zero-padded by 2 (as LibTorch pads conv1's input), and conv1's planes, zero
  // where conv2 pads.
  // Buffers are kept per thread between calls: a map is computed tile by tile, and fresh
  // buffers of a few MB each time cost more in page faults than the convolutions.
  thread_local std::vector<float> x, c1;
  x.assign(static_cast<size_t>((p.h + 2 * kPad) * p.sx), 0.0f);
  const float a = static_cast<float>(invert ? -scale : scale);
  const float b = static_cast<float>(invert ? 255.0 * scale + offset : offset);
  for (int y = 0; y < p.h; ++y) {
    const uint8_t* src = gray.ptr<uint8_t>(y);
    float* dst = x.data() + (y + kPad) * p.sx + kPad;
    for (int i = 0; i < p.w; ++i) dst[i] = src[i] * a + b;
  }
  c1.assign(static_cast<size_t>(wt.c1 * (p.h + 2 * kPad) * p.s1), 0.0f);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max(p.w, 1));
  // The buffers are this thread's: the workers get pointers (a thread_local named inside the
  // lambda would be each worker's own, empty one).
  const float* const xp = x.data();
  float* const c1p = c1.data();
  at::parallel_for(0, p.h, grain, [&](int64_t y0, int64_t y1) {
    conv1_rows(wt, p, xp, c1p, static_cast<int>(y0), static_cast<int>(y1));
  });
  cv::Mat out(p.h, p.w, CV_32F);
  at::parallel_for(0, p.h, std::max<int64_t>(1, grain / 4), [&](int64_t y0, int64_t y1) {
    conv2_rows(wt, p, c1p, out, static_cast<int>(y0), static_cast<int>(y1));
  });
  if (c1.size() > (size_t{16} << 20)) {  // an untiled large image: do not hold 64 MB+
    std::vector<float>().swap(x);
    std::vector<float>().swap(c1);
  }
  return out;
}

}  // namespace adgap
