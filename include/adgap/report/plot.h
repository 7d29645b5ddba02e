// Figures rendered with OpenCV: the training-loss curve (paper Figure 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace adgap {

struct LossCurve {
  std::vector<float> batch_losses;     // one per update
  int64_t batches_per_epoch = 1;       // for the epoch marks
  std::vector<double> epoch_test_acc;  // after each epoch, in [0,1]; may be empty
  std::string title = "Training loss";
};

// Renders per-batch loss (thin) and per-epoch mean (dots) on a log-scale axis, with epoch
// boundaries marked and labelled, to a PNG written atomically. Throws on an empty curve.
void plot_loss_curve(const std::string& path, const LossCurve& curve);

}  // namespace adgap
