// The network of the AdGAP paper, Table 1: a LeNet-style CNN for 28x28 grayscale digits.
//
//   trunk: conv5x5(1->6, pad 2) ReLU maxpool2 -> conv5x5(6->16, pad 2) ReLU maxpool2
//   head:  flatten(16*7*7=784) -> fc120 ReLU -> fc84 ReLU -> fc(num_classes) log-softmax
//
// (widths 6, 16, 120, 84; LeNetWidths can widen the same layout for a reader)
//
// The trunk and head are callable separately: the trunk is fully convolutional (any H x W),
// and the head takes the trunk's (N, 16, 7, 7) maps, so a caller can block (zero) channels
// in between - the filter-importance measurement of the paper's Eq. 1.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>

namespace adgap {

// How the trunk treats its two max-pools.
enum class TrunkMode {
  kPooled,    // as trained: output (N, 16, H/4, W/4)
  kUnpooled,  // the paper's deploy trunk: pools removed, output (N, 16, H, W)
};

// Layer widths: Table 1's by default. The map's network keeps them (its 16 final filters are
// what Eq. 1 weighs); a reader may be wider (ModelMeta::arch "lenet-wide").
struct LeNetWidths {
  int64_t conv1 = 6;   // first convolution's filters
  int64_t conv2 = 16;  // final convolutional filters
  int64_t fc1 = 120;
  int64_t fc2 = 84;

  bool is_table1() const { return conv1 == 6 && conv2 == 16 && fc1 == 120 && fc2 == 84; }
  bool operator==(const LeNetWidths& o) const {
    return conv1 == o.conv1 && conv2 == o.conv2 && fc1 == o.fc1 && fc2 == o.fc2;
  }
};

struct LeNetOptions {
  int64_t in_channels = 1;   // grayscale
  int64_t num_classes = 10;  // from the data
  int64_t input_size = 28;   // training images are input_size x input_size
  LeNetWidths widths{};      // Table 1
};

class LeNetImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kTrunkChannels = 16;  // final convolutional filters of Table 1

  explicit LeNetImpl(const LeNetOptions& opt = {});

  // (N, C, H, W) in [0,1] -> (N, 16, H/4, W/4) pooled, or (N, 16, H, W) unpooled.
  torch::Tensor trunk(const torch::Tensor& x, TrunkMode mode = TrunkMode::kPooled);
  // (N, 16, s, s) with s = input_size/4 -> (N, num_classes) log-probabilities.
  torch::Tensor head(const torch::Tensor& maps);
  // (N, C, input_size, input_size) -> (N, num_classes) log-probabilities.
  torch::Tensor forward(const torch::Tensor& x) { return head(trunk(x)); }

  const LeNetOptions& options() const { return opt_; }
  int64_t head_map_size() const { return opt_.input_size / 4; }
  int64_t trunk_channels() const { return opt_.widths.conv2; }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};

 private:
  LeNetOptions opt_;
};
TORCH_MODULE(LeNet);

// Switches a network to eval mode for a scope and restores the mode it had, so that a library
// call leaves the caller's network as it found it. A network already in eval mode (as loaded
// models are) is not written to at all.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(LeNet& net) : net_(net), was_training_(net->is_training()) {
    if (was_training_) net_->eval();
  }
  ~EvalModeGuard() {
    if (was_training_) net_->train();
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  LeNet& net_;
  bool was_training_;
};

}  // namespace adgap
