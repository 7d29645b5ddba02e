#include "adgap/model/lenet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>

namespace adgap {

namespace F = torch::nn::functional;

LeNetImpl::LeNetImpl(const LeNetOptions& opt) : opt_(opt) {
  TORCH_CHECK(opt.in_channels > 0, "LeNet: in_channels must be positive, got ", opt.in_channels);
  TORCH_CHECK(opt.num_classes >= 2, "LeNet: need at least 2 classes, got ", opt.num_classes);
  TORCH_CHECK(opt.input_size > 0 && opt.input_size % 4 == 0,
              "LeNet: input_size must be a positive multiple of 4, got ", opt.input_size);
  const LeNetWidths& w = opt.widths;
  TORCH_CHECK(w.conv1 > 0 && w.conv2 > 0 && w.fc1 > 0 && w.fc2 > 0 && w.conv1 <= 1024 &&
                  w.conv2 <= 1024 && w.fc1 <= 8192 && w.fc2 <= 8192,
              "LeNet: layer widths out of range");
  const int64_t s = head_map_size();
  conv1 = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(opt.in_channels, w.conv1, 5).padding(2)));
  conv2 = register_module(
      "conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(w.conv1, w.conv2, 5).padding(2)));
  fc1 = register_module("fc1", torch::nn::Linear(w.conv2 * s * s, w.fc1));
  fc2 = register_module("fc2", torch::nn::Linear(w.fc1, w.fc2));
  fc3 = register_module("fc3", torch::nn::Linear(w.fc2, opt.num_classes));
}

torch::Tensor LeNetImpl::trunk(const torch::Tensor& x, TrunkMode mode) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == opt_.in_channels, "LeNet::trunk: expected (N, ",
              opt_.in_channels, ", H, W), got ", x.sizes());
  const bool pooled = mode == TrunkMode::kPooled;
  TORCH_CHECK(!pooled || (x.size(2) >= 4 && x.size(3) >= 4),
              "LeNet::trunk: the pooled trunk needs images of at least 4x4, got ", x.sizes());
  torch::Tensor h = torch::relu(conv1->forward(x));                        // (N, 6, H, W)
  if (pooled) h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2).stride(2));  // (N, 6, H/2, W/2)
  h = torch::relu(conv2->forward(h));  // (N, 16, H/2, W/2) or (N, 16, H, W)
  if (pooled) h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2).stride(2));  // (N, 16, H/4, W/4)
  return h;
}

torch::Tensor LeNetImpl::head(const torch::Tensor& maps) {
  const int64_t s = head_map_size();
  TORCH_CHECK(
      maps.dim() == 4 && maps.size(1) == trunk_channels() && maps.size(2) == s && maps.size(3) == s,
      "LeNet::head: expected (N, ", trunk_channels(), ", ", s, ", ", s, "), got ", maps.sizes());
  torch::Tensor h = maps.flatten(1);                      // (N, 784) in Table 1
  h = torch::relu(fc1->forward(h));                       // (N, 120)
  h = torch::relu(fc2->forward(h));                       // (N, 84)
  return torch::log_softmax(fc3->forward(h), /*dim=*/1);  // (N, num_classes)
}

}  // namespace adgap
