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
#include "adgap/model/model_file.h"
#include "adgap/scene/scene.h"
#include "adgap/scene/scene_v2.h"
#include "adgap/train/trainer.h"

namespace adgap {

struct ReaderConfig {
  int64_t scenes = 6000;                          // training scenes to mine
  uint64_t first_seed = 5000000;                  // disjoint from the tune and evaluation splits
  std::vector<double> scales = Options{}.scales;  // pyramid used when mining: detection's
  double k = 1.5;                                 // mining threshold mean + k std (more candidates)
  TrainConfig train = default_reader_training();  // the reader's own training settings
  // A reader for region proposals (DetectConfig::proposals == kRegions) learns from benchmark
  // v2's train split instead: training photos, fonts and MNIST training digits.
  int64_t region_scenes = 1500;      // v2 training scenes to mine (at most 800x600; 0: none)
  int64_t region_epochs = 10;        // training epochs of a region reader
  int64_t negatives_per_scene = 90;  // "not a digit" crops kept per scene: a third near
                                     //   misses, a third the most digit-like, a third random
  int64_t first_region_scene = 0;    // index of the first v2 training scene mined
  int64_t rounds = 1;                // 2: a second round of region_scenes more scenes whose
                                     //   negatives the first round's reader picks
  LeNetWidths region_widths{};       // a region reader's layer widths
  double distractor_fraction = SceneV2Config{}.distractor_fraction;  // regions: letter strings
                                     //   among the mined scenes' items (more: more negatives
                                     //   that look like text)
  bool first_stage = false;          // regions: also train a Table 1 reader on the same crops
                                     //   into <out>/first (DetectConfig::first_reader)
  bool verifier = false;             // regions: also train a verifier (DetectConfig::verifier)
                                     //   into <out>/verifier, after the reader
  int64_t verifier_scenes = 1500;    // v2 training scenes it mines, after the reader's
  LeNetWidths verifier_widths{32, 64, 256, 128};
  int64_t verifier_epochs = 10;
  double verify_gate = 0.99;         // it learns from the crops the reader gives P(not a
                                     //   digit) below this (detection's gate or more)
  int verifier_jitter = 2;           // moved and scaled copies of each digit's box
  bool letters = false;              // regions: also train a letter reader
                                     //   (DetectConfig::letter_reader) into <out>/letters
  int64_t letter_scenes = 1500;      // v2 training scenes it mines (with letter strings of the
  double letter_distractors = 0.4;   //   whole alphabet as this fraction of the items)
  int64_t letter_first_scene = 4500;  // after the reader's and the verifier's scenes
  int64_t letter_others = 40;        // crops of neither kept per scene (random)
  int64_t letter_epochs = 6;
  LeNetWidths letter_widths{};       // Table 1's
  std::string save_mined;               // directory to write the mined crops to (IDX, "mined")
  std::vector<std::string> use_mined;   // directories of crops saved so, added to the
                                        //   freshly mined ones (region_scenes 0: none)

  // The paper's recipe with 8 epochs, chosen on the benchmark's tune split with 6000 scenes.
  static TrainConfig default_reader_training();
  // The recipe of adgap's own readers (models/reader, scripts/train_models.sh): a 16-32-128-84
  // reader in two rounds, the first reader, the verifier and the letter reader (`adgap
  // train-reader --widths 16,32,128,84 --rounds 2 --first-stage --verifier --letters`).
  static ReaderConfig shipped_recipe();
};

// The detector settings a reader is mined with: no reader of its own (mining keeps every
// candidate). For region proposals the rest is Options' defaults; for the map's hotspots alone
// (`regions` false) the map is pooled, as the first benchmarked reader's was.
Options reader_mining_options(bool regions = true);

// Loads the reader at `path` for a model of `model_classes` classes (it must have one more);
// throws std::runtime_error naming the file otherwise.
LoadedModel load_reader(const std::string& path, int64_t model_classes);

// The dataset name a reader for region proposals records (ModelMeta::dataset): such a reader
// reads crops with their surroundings (context_normalize), others MNIST-style crops.
inline constexpr const char* kRegionReaderData = "mnist+mined-v2";

// MNIST-style crops (N, 1, 28, 28) uint8 and labels (0..classes-1 digits, `classes` = not a
// digit) mined from scenes made with `digits` on `backgrounds`; `map_of` gives the map.
// Progress goes to `log` when given.
Dataset mine_candidates(const MapFunction& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg, std::ostream* log = nullptr);

// Crops (context_normalize) and labels of every proposal (all_proposals) on `count` scenes of
// `gen` from index `first`: a proposal at IoU >= 0.5 with a digit takes its label, others are
// "not a digit" (`classes`), of which at most cfg.negatives_per_scene per scene are kept: near
// misses (IoU 0.2-0.5 with a digit: parts, pairs), those `judge` finds most digit-like, and a
// random sample, a third each. The judge is a digit classifier (the model itself: its top
// probability) or a reader of `classes` + 1 classes (1 - its "not a digit" probability: a
// second round of mining collects the first reader's own false alarms).
Dataset mine_region_crops(const MapFunction& map_of, LeNet judge, const SceneGeneratorV2& gen,
                          const DetectConfig& det, const std::vector<double>& scales,
                          int64_t first, int64_t count, int64_t classes, const ReaderConfig& cfg,
                          std::ostream* log = nullptr);

// The crops worth a verifier's look (indices into `crops`; empty Mats skipped): those the
// first reader (when not empty) gives P(not a digit) < first_reject and `reader` gives
// P(not a digit) < gate, in order.
std::vector<size_t> verifier_worthy(LeNet first, double first_reject, LeNet reader, double gate,
                                    const std::vector<cv::Mat>& crops);

// Crops for a verifier (DetectConfig::verifier) from `count` v2 scenes of `gen` from index
// `first_scene`: every proposal verifier_worthy keeps, labelled like mine_region_crops' (no
// quota: all are kept), plus `jitter` copies of each digit's own box moved and scaled a little
// (IoU >= 0.6 with it) labelled with the digit.
Dataset mine_verifier_crops(const MapFunction& map_of, LeNet first, double first_reject,
                            LeNet reader, double gate, const SceneGeneratorV2& gen,
                            const DetectConfig& det, const std::vector<double>& scales,
                            int64_t first_scene, int64_t count, int64_t classes, int jitter,
                            std::ostream* log = nullptr);

// Where a verifier of the reader trained into `reader_dir` goes: <reader_dir>/verifier.
std::string verifier_dir(const std::string& reader_dir);

// Trains a verifier into <cfg.train.out_dir>/verifier on MNIST plus mine_verifier_crops of
// cfg.verifier_scenes v2 training scenes from index cfg.first_region_scene + cfg.region_scenes
// (after the reader's own), with cfg.verifier_widths and cfg.verifier_epochs; `first` (may be
// empty) and `reader` pick the crops as detection will.
TrainResult train_verifier(const MapFunction& map_of, LeNet first, LeNet reader,
                           const Dataset& mnist, const DetectConfig& det, const ReaderConfig& cfg,
                           std::ostream* log, const EpochCallback& on_epoch = nullptr);

// Loads a letter reader (kLetterClasses classes: a digit, a letter, neither); throws
// std::runtime_error naming the file otherwise.
LoadedModel load_letter_reader(const std::string& path);

// Crops (context_normalize) of every proposal on `count` v2 scenes of `gen` from index `first`,
// labelled kLetterDigit (IoU >= 0.5 with a digit), kLetterClass (with a letter of a letter
// string) or kLetterNeither: at most `others` per scene of those, picked at random.
Dataset mine_letter_crops(const MapFunction& map_of, const SceneGeneratorV2& gen,
                          const DetectConfig& det, const std::vector<double>& scales,
                          int64_t first, int64_t count, int64_t others,
                          std::ostream* log = nullptr);

// Where the letter reader of the reader trained into `reader_dir` goes: <reader_dir>/letters.
std::string letter_reader_dir(const std::string& reader_dir);

// Trains a letter reader (cfg.letter_widths) into <cfg.train.out_dir>/letters on
// mine_letter_crops of cfg.letter_scenes v2 training scenes (MNIST training digits `mnist`,
// letter strings of the whole alphabet as cfg.letter_distractors of the items) from index
// cfg.letter_first_scene, for cfg.letter_epochs.
TrainResult train_letter_reader(const MapFunction& map_of, const Dataset& mnist,
                                const DetectConfig& det, const ReaderConfig& cfg,
                                std::ostream* log, const EpochCallback& on_epoch = nullptr);

// The whole recipe: mines cfg.scenes training scenes (MNIST training digits `mnist` over
// training_background_paths()) and trains the reader on `mnist` plus the mined crops, with
// classes = mnist.num_classes + 1, into cfg.train.out_dir. With det.proposals == kRegions it
// mines cfg.region_scenes of benchmark v2's train split (mine_region_crops) instead and
// trains cfg.region_epochs. With cfg.rounds 2 that first reader goes to <out>/round1 (with
// its mined crops) and judges the negatives of cfg.region_scenes further scenes; the reader
// in <out> learns from both rounds' crops. With cfg.first_stage a Table 1 reader learns from
// the same crops into <out>/first, to run before the reader and drop the obvious non-digits.
// With cfg.verifier a verifier follows (train_verifier), into <out>/verifier; with cfg.letters
// a letter reader (train_letter_reader), into <out>/letters.
// `on_epoch` as train_model's.
// `judge`: the model, or a reader (used to pick digit-like negatives for region proposals).
TrainResult train_reader(const MapFunction& map_of, LeNet judge, const Dataset& mnist,
                         const DetectConfig& det, const ReaderConfig& cfg, std::ostream* log,
                         const EpochCallback& on_epoch = nullptr);

}  // namespace adgap
