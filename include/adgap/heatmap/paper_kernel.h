// adgap's own kernel for the paper-mode map (the deploy trunk, pools removed): conv1 ReLU,
// conv2 ReLU and the weighted sum sum_i W_i F_i fused row by row, vectorised (GCC vector
// extensions, compiled for AVX-512, AVX2 and plain x86-64 and picked at run time) and threaded
// over rows. The 16 final maps are never stored: each output row's filters are summed while
// they are in registers. LibTorch's convolutions (trunk_maps) stay as the reference; tests
// compare the two.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <vector>

#include "adgap/model/lenet.h"

namespace adgap {

// The trunk's weights in the layout the kernel reads, and the map's mixing weights.
struct PaperKernelWeights {
  int64_t c1 = 0, c2 = 0;     // conv1's and conv2's filter counts
  std::vector<float> w1, b1;  // conv1: [c][ky][kx], [c]
  std::vector<float> w2, b2;  // conv2: [c][ky][kx][o] (o innermost), [o]
  std::vector<float> mix;     // W_o, one per final filter

  // From a single-channel network with 5x5 convolutions; `mix` has trunk_channels() entries.
  static PaperKernelWeights from(LeNet& net, const std::vector<float>& mix);
};

// Whether the kernel can compute `net`'s paper-mode map (one input channel, 5x5 convolutions
// with padding 2, as LeNet builds them).
bool paper_kernel_supports(LeNet& net);

// sum_o mix_o relu(conv2(relu(conv1(x)))) of an 8-bit gray crop, CV_32F of its size, where
// x = (invert ? 255 - p : p) * scale + offset and both convolutions zero-pad by 2 at the
// crop's edges, as LibTorch's do.
cv::Mat paper_map(const PaperKernelWeights& w, const cv::Mat& gray_u8, bool invert, double scale,
                  double offset);

}  // namespace adgap
