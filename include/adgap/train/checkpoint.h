// A training checkpoint: weights, model metadata, Adam state, shuffle-RNG state, epoch and
// step counters, the per-batch loss history and per-epoch statistics. One atomic file.
#pragma once

#include <torch/optim/adam.h>

#include <string>

#include "adgap/train/trainer.h"

namespace adgap {

struct TrainProgress {
  int64_t epochs_done = 0;        // completed epochs
  int64_t step = 0;               // Adam updates done (the t of the learning-rate decay)
  std::string rng_state;          // std::mt19937_64 state, as its stream operator writes it
  TrainResult* result = nullptr;  // losses and epoch statistics to save / restore
  nlohmann::json config;          // settings that must match on resume
};

void save_checkpoint(const std::string& path, LeNet& net, const ModelMeta& meta,
                     torch::optim::Adam& opt, const TrainProgress& p);

// Restores into `net` and `opt` (already built with the same shapes) and `p`. Throws
// std::runtime_error naming the file when it is unreadable or its config differs from p.config.
void load_checkpoint(const std::string& path, LeNet& net, ModelMeta& meta, torch::optim::Adam& opt,
                     TrainProgress& p);

// The network of a checkpoint as a model: its weights after the last finished epoch, with the
// recipe's epochs set to those (the learning rate depends on the step alone, so this is the
// model a run asked for that many epochs writes). Throws std::runtime_error naming the file.
LoadedModel load_checkpoint_model(const std::string& path);

}  // namespace adgap
