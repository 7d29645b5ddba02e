#include "adgap/methods/cam.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include "adgap/util/seed.h"

namespace adgap {

void train_cam(LeNet& net, const Dataset& data, FilterImportance& imp, int64_t epochs) {
  const int64_t ch = net->trunk_channels(), nc = net->options().num_classes;
  // Global average of each final map: (N, 16), computed once.
  at::Tensor gap;
  {
    at::NoGradGuard no_grad;
    const EvalModeGuard eval_mode(net);
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < data.size(); start += 1000) {
      const int64_t b = std::min<int64_t>(1000, data.size() - start);
      parts.push_back(net->trunk(to_input(data.images.narrow(0, start, b))).mean({2, 3}));
    }
    gap = at::cat(parts);
  }
  // A linear softmax classifier on it (Zhou et al. 2016), Adam, full-batch steps per epoch of
  // minibatches of 300; deterministic (seed 0), the caller's random stream left untouched.
  const SeedGuard seed(0);
  at::Tensor w = (at::randn({nc, ch}) * 0.01).requires_grad_();
  at::Tensor bias = at::zeros({nc}).requires_grad_();
  torch::optim::Adam opt({w, bias}, torch::optim::AdamOptions(0.01));
  const at::Tensor y = data.labels;
  for (int64_t e = 0; e < epochs; ++e) {
    const at::Tensor perm = at::randperm(data.size());
    for (int64_t start = 0; start < data.size(); start += 300) {
      const at::Tensor idx = perm.narrow(0, start, std::min<int64_t>(300, data.size() - start));
      opt.zero_grad();
      const at::Tensor logits = at::addmm(bias, gap.index_select(0, idx), w.t());
      at::cross_entropy_loss(logits, y.index_select(0, idx)).backward();
      opt.step();
    }
  }
  at::NoGradGuard no_grad;
  imp.cam_accuracy =
      at::addmm(bias, gap, w.t()).argmax(1).eq(y).to(at::kDouble).mean().item<double>();
  imp.cam_weights.assign(nc, std::vector<double>(ch));
  imp.cam_bias.assign(nc, 0.0);
  for (int64_t c = 0; c < nc; ++c) {
    imp.cam_bias[c] = bias[c].item<double>();
    for (int64_t k = 0; k < ch; ++k) imp.cam_weights[c][k] = w[c][k].item<double>();
  }
}

}  // namespace adgap
