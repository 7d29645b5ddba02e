// The small network of the model and checkpoint seeds that make_seeds.cpp writes, shared with
// the checkpoint target (which builds this network before loading, as a resume does).
#pragma once

#include <nlohmann/json.hpp>

#include "adgap/model/model_file.h"

namespace adgap_fuzz {

// A "lenet-wide" network with the narrowest layers: a few hundred weights, so that a model file
// is a few KB and every mutation is cheap to load.
inline adgap::ModelMeta seed_meta() {
  adgap::ModelMeta m;
  m.arch = "lenet-wide";
  m.widths = {/*conv1=*/2, /*conv2=*/2, /*fc1=*/4, /*fc2=*/4};
  m.num_classes = 3;
  m.input_size = 8;
  m.epochs = 1;
  m.seed = 7;
  return m;
}

// The settings a checkpoint must match on resume (as train_model writes them).
inline nlohmann::json seed_config() {
  return {{"dataset", "mnist"}, {"train_size", 6},     {"batch_size", 3},
          {"lr", 1e-3},         {"lr_decay", 1e-5},    {"seed", 7}};
}

}  // namespace adgap_fuzz
