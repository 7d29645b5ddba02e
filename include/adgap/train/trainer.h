// Training the Table 1 network the paper's way: Adam, step size lr / (1 + t * lr_decay)
// (Torch7's learningRateDecay), batch 300, 10 epochs, NLL loss, reshuffled every epoch.
//
// Each step's forward and backward pass by adgap's kernels (train_step.h) where they apply,
// otherwise (or with libtorch_kernels) by LibTorch's layers and autograd; Adam is LibTorch's.
//
// Reproducible on CPU for a given seed (and thread count, on LibTorch's path): the weights are initialised from the
// seed and the only later randomness is the shuffle, whose generator state is checkpointed.
// A checkpoint is written atomically after every epoch, so `resume` after a kill continues
// where training stopped and ends with the same weights as an uninterrupted run.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "adgap/data/dataset.h"
#include "adgap/model/model_file.h"

namespace adgap {

struct TrainConfig {
  int64_t epochs = 10;       // passes over the training set (paper)
  int64_t batch_size = 300;  // images per update (paper)
  double lr = 1e-3;          // Adam step size (paper)
  double lr_decay = 1e-5;    // Torch7 decay: the step size at update t is lr / (1 + t * lr_decay)
  uint64_t seed = 0;         // weight initialisation and shuffling
  LeNetWidths widths{};      // layer widths (Table 1's; wider ones make a "lenet-wide" model)
  std::string out_dir = "runs/mnist";  // checkpoint.pt and model.pt go here
  bool resume = false;                 // continue from out_dir/checkpoint.pt when it exists
  int64_t stop_after = 0;  // stop after this many epochs in this call (0: never); for tests
                           //   and for splitting long runs, as if the process were killed
  bool progress = true;    // per-epoch lines (and a bar on a terminal) to the log stream
  bool libtorch_kernels = false;  // LibTorch's layers and autograd for every step, instead of
                                  //   adgap's kernels (train_step.h) where they apply
};

struct EpochStats {
  int64_t epoch = 0;          // 1-based
  double mean_loss = 0;       // mean training NLL over the epoch's batches
  double train_accuracy = 0;  // fraction of training images classified right during the epoch
  double test_accuracy = -1;  // after the epoch; -1 when no test set was given
  double seconds = 0;         // wall time of the epoch's updates
  double images_per_second = 0;
};

// Per-epoch statistics as a JSON array (train.json, checkpoints) and back.
nlohmann::json epochs_to_json(const std::vector<EpochStats>& epochs);
std::vector<EpochStats> epochs_from_json(const nlohmann::json& a);

struct TrainResult {
  LeNet net{nullptr};
  ModelMeta meta;
  std::vector<float> batch_losses;  // one per update, all epochs so far (paper Figure 1)
  int64_t batches_per_epoch = 0;
  std::vector<EpochStats> epochs;  // every epoch so far, including those before a resume
  bool finished = false;           // all cfg.epochs done (model.pt written)
};

// Paths of the files training writes into cfg.out_dir.
std::string checkpoint_path(const std::string& out_dir);
std::string model_path(const std::string& out_dir);

// Called after every epoch's checkpoint and once more after model.pt is written (finished
// set), e.g. to write the reports of src/report/training_report.h.
using EpochCallback = std::function<void(const TrainConfig&, const TrainResult&)>;

// Thrown when the loss becomes NaN or infinite: training stops before that step's update, and
// the checkpoint on disk (if any) is the last epoch whose every loss was finite.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Trains on `train`, evaluating on `test` (may be null) after each epoch; writes the checkpoint
// after each epoch and model.pt at the end. Logs to `log` (may be null). Throws
// TrainingDiverged (see above).
TrainResult train_model(const Dataset& train, const Dataset* test, const TrainConfig& cfg,
                        std::ostream* log, const EpochCallback& on_epoch = nullptr);

}  // namespace adgap
