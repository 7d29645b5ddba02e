// Filter importance, the paper's Eq. 1: how much the classification loss (and the 0/1 error)
// rises when one final convolutional filter is blocked.
//
// Blocking channel i means zeroing its whole post-pool map (N, 16, 7, 7)[:, i] before the
// fully connected head. The trunk runs once per batch; the baseline and all 16 blocked
// variants go through the head together as one (17 * B) batch.
//
// Sign convention: rise = E_i - e (loss with i blocked minus baseline), as the reference
// implementation computes it. The paper prints e - E_i, but with that sign the filters the
// classifier relies on get the lowest weights and the min-max normalised heatmap shows the
// background bright; the paper's own figures (digits bright) match E_i - e.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "adgap/data/dataset.h"
#include "adgap/model/lenet.h"

namespace adgap {

struct FilterImportance {
  std::string split;                   // dataset the weights were measured on, e.g. "mnist/train"
  int64_t samples = 0;                 // images measured
  int64_t channels = 0;                // final filters (16)
  int64_t classes = 0;                 // output classes
  double baseline_loss = 0;            // mean NLL with no filter blocked
  double baseline_error = 0;           // 0/1 error rate with no filter blocked
  std::vector<double> loss_rise;       // (channels) mean NLL rise E_i - e over all samples
  std::vector<double> error_rise;      // (channels) error-rate rise
  std::vector<int64_t> class_samples;  // (classes)
  std::vector<double> class_baseline_loss;            // (classes) mean NLL per true class
  std::vector<std::vector<double>> class_loss_rise;   // (classes, channels) mean NLL rise
  std::vector<std::vector<double>> class_error_rise;  // (classes, channels)

  // The reference repository's other weightings, measured in the same pass (baselines):
  std::vector<double> mean_activation;  // (channels) mean of F_i over samples and cells
  std::vector<double> ccgap;            // (channels) mean over samples of loss change / sum(F_i^2)
  // CAM (Zhou et al. 2016), a baseline: a linear classifier on the global average of each final
  // map, stored in the same file; trained by train_cam (adgap/methods/cam.h), empty until then.
  std::vector<std::vector<double>> cam_weights;  // (classes, channels)
  std::vector<double> cam_bias;                  // (classes)
  double cam_accuracy = 0;                       // its accuracy on the data it was trained on

  // Weights for a heatmap: the global loss rise, or class `c`'s row when c >= 0;
  // `by_error` picks the 0/1 error rise instead of the loss rise.
  std::vector<float> weights(int64_t c = -1, bool by_error = false) const;

  nlohmann::json to_json() const;
  static FilterImportance from_json(const nlohmann::json& j, const std::string& source);
};

// The head's log-probabilities with nothing blocked and with each final channel blocked in
// turn: (16 + 1, N, classes) from the trunk's (N, 16, 7, 7) maps; row 0 nothing blocked, row
// 1 + i channel i zeroed. Blocking channel i changes only its 49 inputs of fc1, so each
// channel's share of fc1 is computed once, fc1's output is their sum plus the bias, and a
// blocked channel's share is subtracted from it (the same as running the head on 17 masked
// copies, to float rounding, at about a sixth of the work). Computed without gradients.
at::Tensor blocked_head(LeNet& net, const at::Tensor& maps);

// Measures importance over `data` with the network in eval mode, `batch_size` images at a time
// (batches run in parallel; small ones keep each thread's working memory small, and fresh
// memory costs a page fault per page: 250 took 0.80 s on MNIST's training set, 1000 0.95 s).
FilterImportance compute_importance(LeNet& net, const Dataset& data, int64_t batch_size = 250);

// JSON file I/O (atomic write; read throws naming the file).
void save_importance(const std::string& path, const FilterImportance& imp);
FilterImportance load_importance(const std::string& path);

}  // namespace adgap
