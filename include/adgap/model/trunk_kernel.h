// adgap's own kernel for the trained (pooled) trunk on small images such as 28x28 digits and
// crops: conv1 ReLU maxpool conv2 ReLU maxpool, one image per task, channels in vector lanes
// (GCC vector extensions compiled for AVX-512, AVX2 and plain x86-64, picked at run time),
// threaded over the batch. Used for inference where gradients are not needed (filter
// importance, the readers); LibTorch's layers stay the reference and the fallback.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "adgap/model/lenet.h"

namespace adgap {

struct TrunkKernelWeights {
  int64_t c1 = 0, c2 = 0;    // filter counts
  int64_t c1p = 0, c2p = 0;  // the same rounded up to whole vectors (16 floats)
  std::vector<float> w1, b1;  // [ky][kx][c1p], [c1p]
  std::vector<float> w2, b2;  // [c][ky][kx][c2p], [c2p]

  static TrunkKernelWeights from(LeNet& net);
};

// Whether the kernel can run `net`'s pooled trunk: one input channel, 5x5 convolutions,
// conv1 up to 32 filters and conv2 up to 64.
bool trunk_kernel_supports(LeNet& net);

// (N, 1, H, W) float, H and W multiples of 4 -> (N, c2, H/4, W/4): the same as
// net->trunk(x, TrunkMode::kPooled) to float rounding.
at::Tensor pooled_trunk(const TrunkKernelWeights& w, const at::Tensor& x);

// The pooled trunk by adgap's kernel when it applies (no gradient wanted, a supported
// network and input), otherwise by LibTorch.
at::Tensor inference_trunk(LeNet& net, const at::Tensor& x);

// net->forward(x) with the trunk by inference_trunk: (N, classes) log-probabilities.
at::Tensor inference_forward(LeNet& net, const at::Tensor& x);

}  // namespace adgap
