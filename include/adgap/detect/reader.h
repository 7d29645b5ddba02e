// The reader: a second Table 1 network with one extra class, "not a digit", that classifies
// the crops detection proposes (DetectConfig::reader). It learns from MNIST training digits
// plus hard examples mined from the detector itself: the candidates it proposes on generated
// scenes of *training* digits over *training* photos (disjoint from the benchmark's), labelled
// by the scene's ground truth - a candidate matching a digit at IoU >= 0.5 takes the digit's
// label, any other the "not a digit" class.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "adgap/adgap.h"
#include "adgap/detect/detect.h"
#include "adgap/scene/scene.h"
#include "adgap/train/trainer.h"

namespace adgap {

struct ReaderConfig {
  int64_t scenes = 6000;                          // training scenes to mine
  uint64_t first_seed = 5000000;                  // disjoint from the tune and evaluation splits
  std::vector<double> scales = Options{}.scales;  // pyramid used when mining: detection's
  double k = 1.5;                                 // mining threshold mean + k std (more candidates)
  TrainConfig train = default_reader_training();  // the reader's own training settings

  // The paper's recipe with 8 epochs, chosen on the benchmark's tune split with 6000 scenes.
  static TrainConfig default_reader_training();
};

// The detector settings the reader is mined with: pooled maps (as the benchmarked reader was),
// no reader of its own (mining keeps every candidate); the rest as Options' defaults.
Options reader_mining_options();

// Loads the reader at `path` for a model of `model_classes` classes (it must have one more);
// throws std::runtime_error naming the file otherwise.
LeNet load_reader(const std::string& path, int64_t model_classes);

// MNIST-style crops (N, 1, 28, 28) uint8 and labels (0..classes-1 digits, `classes` = not a
// digit) mined from scenes made with `digits` on `backgrounds`; `map_of` gives the map.
// Progress goes to `log` when given.
Dataset mine_candidates(const MapFunction& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg, std::ostream* log = nullptr);

// The whole recipe: mines cfg.scenes training scenes (MNIST training digits `mnist` over
// training_background_paths()) and trains the reader on `mnist` plus the mined crops, with
// classes = mnist.num_classes + 1, into cfg.train.out_dir. `on_epoch` as train_model's.
TrainResult train_reader(const MapFunction& map_of, const Dataset& mnist, const DetectConfig& det,
                         const ReaderConfig& cfg, std::ostream* log,
                         const EpochCallback& on_epoch = nullptr);

}  // namespace adgap
