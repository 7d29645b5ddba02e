// A small trained model and its filter weights, shared by the tests that need a network that
// really reads digits. Trained once (1 epoch over MNIST, batch 100, seed 0: about 97 % test
// accuracy) and cached in the build tree, since ctest runs every test in its own process.
#pragma once

#include <filesystem>
#include <string>

#include "adgap/data/dataset.h"
#include "adgap/importance/importance.h"
#include "adgap/methods/cam.h"
#include "adgap/model/model_file.h"
#include "adgap/train/trainer.h"
#include "adgap/util/threads.h"
#include "fixtures.h"

namespace adgap::test {

inline std::string trained_dir() { return std::string(ADGAP_BINARY_DIR) + "/test-cache/model-v4"; }

// Returns the cached model's directory (model.safetensors and weights.json), training it if needed.
inline std::string ensure_trained() {
  const std::string dir = trained_dir();
  if (std::filesystem::exists(dir + "/weights.json")) return dir;
  configure_threads(2);
  const Dataset train = load_split(mnist_dir(), "train");
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 100;
  cfg.out_dir = dir;
  cfg.progress = false;
  TrainResult r = train_model(train, nullptr, cfg, nullptr);
  const Dataset some = head(train, 10000);
  FilterImportance imp = compute_importance(r.net, some);
  train_cam(r.net, some, imp, /*epochs=*/3);
  save_importance(dir + "/weights.json", imp);
  return dir;
}

struct Trained {
  LoadedModel model;
  FilterImportance importance;
};

inline Trained load_trained() {
  const std::string dir = ensure_trained();
  return {load_model(dir + "/model.safetensors"), load_importance(dir + "/weights.json")};
}

}  // namespace adgap::test
