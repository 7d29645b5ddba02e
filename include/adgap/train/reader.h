// The reader: a second Table 1 network with one extra class, "not a digit", that classifies
// the crops detection proposes. It learns from MNIST training digits plus hard examples mined
// from the detector itself: the candidates it proposes on generated scenes of *training*
// digits over *training* photos (disjoint from the benchmark's), labelled by the scene's
// ground truth - a candidate matching a digit at IoU >= 0.5 takes the digit's label, any other
// the "not a digit" class.
#pragma once

#include <functional>
#include <vector>

#include "adgap/detect/detect.h"
#include "adgap/scene/scene.h"
#include "adgap/train/trainer.h"

namespace adgap {

struct ReaderConfig {
  int64_t scenes = 6000;                        // training scenes to mine
  uint64_t first_seed = 5000000;                // disjoint from the tune and evaluation splits
  std::vector<double> scales = {1, 0.5, 0.25};  // pyramid used when mining
  double k = 1.5;                               // mining threshold mean + k std (more candidates)
  TrainConfig train;                            // the reader's own training settings
};

// Photos for training scenes: opencv-doc photos not used by the benchmark.
std::vector<std::string> training_background_paths();

// MNIST-style crops (N, 1, 28, 28) uint8 and labels (0..classes-1 digits, `classes` = not a
// digit) mined from scenes made with `digits` on `backgrounds`; `map_of` gives the map.
Dataset mine_candidates(const std::function<cv::Mat(const cv::Mat&)>& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg);

// Trains the reader on `mnist` plus `mined`, with classes = mnist.num_classes + 1.
TrainResult train_reader(const Dataset& mnist, const Dataset& mined, const ReaderConfig& cfg,
                         std::ostream* log);

}  // namespace adgap
