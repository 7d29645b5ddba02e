// One training step's forward and backward pass by adgap's own kernels: the pooled trunk
// (conv1 ReLU max-pool conv2 ReLU max-pool) vectorised like the inference kernel, its backward
// pass using the pools' sparsity (of each 2x2 window only the maximum passes a gradient, and
// only where the ReLU did), and the fully connected head as a few matrix products split over
// both halves of the batch, without LibTorch's autograd. The optimiser step stays LibTorch's
// Adam (the checkpoint format does not change).
//
// Reproducible: the batch is cut into fixed chunks of images whose gradients are summed in
// order, so the result depends neither on the thread count nor on which thread ran what.
// LibTorch's layers stay the reference (tests compare one batch's gradients within 1e-4) and
// the fallback: `train --libtorch-kernels`, and any network or input the kernels do not take.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "adgap/model/lenet.h"

namespace adgap {

struct StepResult {
  float loss = 0;       // the batch's mean NLL
  int64_t correct = 0;  // images whose arg-max class is their label
};

class KernelTrainStep {
 public:
  // Whether the kernels take `net` (one input channel, 5x5 convolutions, conv1 up to 32 filters
  // and conv2 up to 64, the trunk_kernel_supports limits) and batches of images h x w.
  static bool supports(LeNet& net, int64_t h, int64_t w);

  // The mean NLL loss of net on (x, y) and its gradient, written into every parameter's
  // .grad() as loss.backward() after net->forward(x) would (to float rounding). x: (B, 1, H, W)
  // float, H and W multiples of 4; y: (B) int64 labels of net's classes.
  StepResult gradients(LeNet& net, const at::Tensor& x, const at::Tensor& y);

 private:
  // The forward pass kept for the backward one, reused from step to step: the padded pooled
  // conv1 maps (whose borders and padding lanes are zeroed once and never written) and both
  // pools' argmax.
  std::vector<float> a_;
  std::vector<uint8_t> i1_, i2_;
  int64_t a_size_ = 0, i1_size_ = 0, c1_ = 0;
};

}  // namespace adgap
