#include "adgap/detect/reader.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

#include "adgap/detect/proposals.h"
#include "adgap/io/image.h"
#include "adgap/model/model_file.h"
#include "adgap/util/progress.h"

namespace adgap {

TrainConfig ReaderConfig::default_reader_training() {
  TrainConfig t;
  t.epochs = 8;  // chosen on the tune split with 6000 scenes (README)
  return t;
}

ReaderConfig ReaderConfig::shipped_recipe() {
  ReaderConfig rc;
  rc.region_widths = {/*conv1=*/16, /*conv2=*/32, /*fc1=*/128, /*fc2=*/84};
  rc.rounds = 2;
  rc.first_stage = true;
  rc.verifier = true;
  rc.letters = true;
  return rc;
}

Options reader_mining_options(bool regions) {
  Options o;
  o.reader = "none";
  if (regions) {
    o.proposals = "regions";
  } else {
    o.proposals = "map";
    o.mode = "pooled";
  }
  return o;
}

LoadedModel load_reader(const std::string& path, int64_t model_classes) {
  LoadedModel r = load_model(path);
  if (r.meta.num_classes != model_classes + 1) {
    throw std::runtime_error(path + ": has " + std::to_string(r.meta.num_classes) +
                             " classes, a reader for a model of " + std::to_string(model_classes) +
                             " classes needs " + std::to_string(model_classes + 1));
  }
  return r;
}

namespace {

// The digit of `digits` a box overlaps most: its IoU and its label when that IoU is >= 0.5
// (else `none`).
std::pair<double, int64_t> best_truth(const cv::Rect& box, const std::vector<DigitTruthV2>& digits,
                                      int64_t none) {
  double best = 0;
  int64_t label = none;
  for (const DigitTruthV2& t : digits) {
    const double v = iou(box, t.truth.box);
    if (v > best) {
      best = v;
      if (v >= 0.5) label = t.truth.label;
    }
  }
  return {best, label};
}

// Mined 28x28 crops and their labels, gathered into a dataset.
struct MinedCrops {
  std::vector<cv::Mat> crops;  // CV_8U
  std::vector<int64_t> labels;

  size_t size() const { return crops.size(); }
  // A crop in [0, 1] (CV_32F), stored as 8 bits.
  void add(const cv::Mat& crop01, int64_t label) {
    cv::Mat u8;
    crop01.convertTo(u8, CV_8U, 255.0);
    crops.push_back(u8);
    labels.push_back(label);
  }
  // The crops as a dataset of `classes` classes.
  Dataset dataset(const std::string& name, int64_t classes) const {
    Dataset d;
    d.name = name;
    d.num_classes = classes;
    const int64_t n = static_cast<int64_t>(crops.size());
    d.images = at::empty({n, 1, 28, 28}, at::kByte);
    for (int64_t i = 0; i < n; ++i) {
      d.images[i][0].copy_(at::from_blob(crops[i].data, {28, 28}, at::kByte));
    }
    d.labels = at::tensor(labels);
    return d;
  }
};

// Scene `index` of `gen`'s split with every proposal (all_proposals) and its crop
// (context_crops; empty where the box holds no contrast).
struct ProposedScene {
  SceneV2 scene;
  cv::Mat gray;
  std::vector<Proposal> props;
  std::vector<cv::Mat> crops;
};
ProposedScene propose_scene(const SceneGeneratorV2& gen, int64_t index, const MapFunction& map_of,
                            const DetectConfig& det, const std::vector<double>& scales) {
  ProposedScene p;
  p.scene = gen.make(v2_first_seed(gen.split()) + static_cast<uint64_t>(index));
  p.gray = to_gray(p.scene.image);
  p.props = all_proposals(p.gray, map_of, det, scales);
  p.crops = context_crops(p.gray, p.props);
  return p;
}

}  // namespace

Dataset mine_candidates(const MapFunction& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg, std::ostream* log) {
  DetectConfig c = det;
  c.threshold.kind = ThresholdKind::kMeanStd;
  c.threshold.k = cfg.k;
  const int64_t background = digits.num_classes;
  MinedCrops mined;
  Progress progress(log, cfg.scenes, "mining scenes");
  for (int64_t i = 0; i < cfg.scenes; ++i) {
    const Scene s = make_scene(digits, backgrounds, cfg.first_seed + i, benchmark_scene_config());
    const cv::Mat gray = to_gray(s.image);
    for (double scale : cfg.scales) {
      cv::Mat g;
      if (!pyramid_level(gray, scale, g)) continue;
      for (const Candidate& cand : extract_candidates(g, map_of(g), c)) {
        const cv::Rect box = unscale_box(cand.box, scale);
        int64_t label = background;
        for (const DigitTruth& t : s.digits) {
          if (iou(box, t.box) >= 0.5) label = t.label;
        }
        mined.add(cand.digit, label);
      }
    }
    progress.update(i + 1, std::to_string(mined.size()) + " candidates");
  }
  progress.finish();
  return mined.dataset("mined/train", background + 1);
}

Dataset mine_region_crops(const MapFunction& map_of, LeNet judge, const SceneGeneratorV2& gen,
                          const DetectConfig& det, const std::vector<double>& scales,
                          int64_t first, int64_t count, int64_t classes, const ReaderConfig& cfg,
                          std::ostream* log) {
  MinedCrops mined;
  Progress progress(log, count, "mining v2 training scenes");
  for (int64_t i = 0; i < count; ++i) {
    const ProposedScene ps = propose_scene(gen, first + i, map_of, det, scales);
    const SceneV2& s = ps.scene;
    std::vector<cv::Mat> near, far;
    for (size_t k = 0; k < ps.props.size(); ++k) {
      const cv::Mat& c = ps.crops[k];
      if (c.empty()) continue;
      const auto [best, label] = best_truth(ps.props[k].box, s.digits, classes);
      if (label != classes) {
        mined.add(c, label);
      } else {
        (best >= 0.2 ? near : far).push_back(c);
      }
    }
    // A third near misses, a third the judge's most digit-like, the rest random (seeded by
    // the scene).
    std::mt19937_64 rng(s.seed);
    std::shuffle(near.begin(), near.end(), rng);
    std::shuffle(far.begin(), far.end(), rng);
    const size_t quota = static_cast<size_t>(cfg.negatives_per_scene);
    std::vector<cv::Mat> keep(near.begin(), near.begin() + std::min(near.size(), quota / 3));
    if (!far.empty()) {
      std::vector<float> conf(far.size(), 0.f);
      if (!judge.is_empty()) {
        const at::Tensor probs = read_crops(judge, far);
        // A reader (a "not a digit" class last) judges by 1 - P(not a digit), a digit
        // classifier by its top probability.
        const at::Tensor p = (probs.size(1) == classes + 1
                                  ? 1.0f - probs.select(1, classes)
                                  : std::get<0>(probs.max(1)))
                                 .contiguous();
        std::copy(p.data_ptr<float>(), p.data_ptr<float>() + far.size(), conf.begin());
      }
      std::vector<size_t> order(far.size());
      std::iota(order.begin(), order.end(), 0);
      const size_t hard = std::min(far.size(), quota / 3);
      std::partial_sort(order.begin(), order.begin() + hard, order.end(),
                        [&](size_t a, size_t b) { return conf[a] > conf[b]; });
      std::shuffle(order.begin() + hard, order.end(), rng);  // the hardest first, then random
      for (size_t k = 0; k < order.size() && keep.size() < quota; ++k) keep.push_back(far[order[k]]);
    }
    for (const cv::Mat& c : keep) mined.add(c, classes);
    progress.update(i + 1, std::to_string(mined.size()) + " crops");
  }
  progress.finish();
  return mined.dataset("mined-v2/train", classes + 1);
}

std::vector<size_t> verifier_worthy(LeNet first, double first_reject, LeNet reader, double gate,
                                    const std::vector<cv::Mat>& crops) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < crops.size(); ++i) {
    if (!crops[i].empty()) idx.push_back(i);
  }
  // Each reader in turn keeps the crops it does not reject; `idx` maps them back to `crops`.
  for (auto [net, level] : {std::pair{first, first_reject}, std::pair{reader, gate}}) {
    if (net.is_empty() || idx.empty()) continue;
    std::vector<cv::Mat> live;
    for (size_t i : idx) live.push_back(crops[i]);
    std::vector<size_t> kept;
    for (size_t k : not_rejected(read_crops(net, live), level)) kept.push_back(idx[k]);
    idx = std::move(kept);
  }
  return idx;
}

Dataset mine_verifier_crops(const MapFunction& map_of, LeNet first, double first_reject,
                            LeNet reader, double gate, const SceneGeneratorV2& gen,
                            const DetectConfig& det, const std::vector<double>& scales,
                            int64_t first_scene, int64_t count, int64_t classes, int jitter,
                            std::ostream* log) {
  MinedCrops mined;
  Progress progress(log, count, "mining v2 training scenes for the verifier");
  for (int64_t i = 0; i < count; ++i) {
    const ProposedScene ps = propose_scene(gen, first_scene + i, map_of, det, scales);
    const SceneV2& s = ps.scene;
    const cv::Mat& gray = ps.gray;
    for (size_t k : verifier_worthy(first, first_reject, reader, gate, ps.crops)) {
      mined.add(ps.crops[k], best_truth(ps.props[k].box, s.digits, classes).second);
    }
    // Each digit's own box moved and scaled a little: the verifier learns that a box off by
    // a few pixels still holds the digit (seeded by the scene).
    std::mt19937_64 rng(s.seed ^ 0x5eed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (const DigitTruthV2& t : s.digits) {
      const cv::Rect& b = t.truth.box;
      for (int j = 0, tries = 0; j < jitter && tries < 10 * jitter; ++tries) {
        const double side = std::max(b.width, b.height);
        const double w = b.width * (1 + 0.15 * u(rng)), h = b.height * (1 + 0.15 * u(rng));
        const double cx = b.x + b.width / 2.0 + 0.1 * side * u(rng);
        const double cy = b.y + b.height / 2.0 + 0.1 * side * u(rng);
        const cv::Rect nb = cv::Rect(static_cast<int>(std::lround(cx - w / 2)),
                                     static_cast<int>(std::lround(cy - h / 2)),
                                     std::max(1, static_cast<int>(std::lround(w))),
                                     std::max(1, static_cast<int>(std::lround(h)))) &
                            cv::Rect(0, 0, gray.cols, gray.rows);
        if (iou(nb, b) < 0.6) continue;
        cv::Mat c;
        if (!context_normalize(gray, nb, t.dark_on_light, c)) continue;
        mined.add(c, t.truth.label);
        ++j;
      }
    }
    progress.update(i + 1, std::to_string(mined.size()) + " crops");
  }
  progress.finish();
  return mined.dataset("verifier-v2/train", classes + 1);
}

std::string verifier_dir(const std::string& reader_dir) {
  return (std::filesystem::path(reader_dir) / "verifier").string();
}

TrainResult train_verifier(const MapFunction& map_of, LeNet first, LeNet reader,
                           const Dataset& mnist, const DetectConfig& det, const ReaderConfig& cfg,
                           std::ostream* log, const EpochCallback& on_epoch) {
  SceneV2Config mining;
  mining.max_side = 800;
  mining.distractor_fraction = cfg.distractor_fraction;
  const Dataset crops = mine_verifier_crops(
      map_of, first, det.first_reject, reader, cfg.verify_gate,
      SceneGeneratorV2(mnist, SceneSplit::kTrain, mining), det, cfg.scales,
      cfg.first_region_scene + cfg.region_scenes, cfg.verifier_scenes, mnist.num_classes,
      cfg.verifier_jitter, log);
  Dataset all;
  all.name = std::string(kRegionReaderData) + "/train";
  all.num_classes = mnist.num_classes + 1;
  all.images = at::cat({mnist.images, crops.images});
  all.labels = at::cat({mnist.labels, crops.labels});
  if (log) {
    const int64_t neg = crops.labels.eq(mnist.num_classes).sum().item<int64_t>();
    *log << "verifier: " << crops.size() << " crops, " << crops.size() - neg << " digits, " << neg
         << " not digits" << std::endl;
  }
  TrainConfig train = cfg.train;
  train.epochs = cfg.verifier_epochs;
  train.widths = cfg.verifier_widths;
  train.out_dir = verifier_dir(cfg.train.out_dir);
  if (log) *log << "verifier, into " << train.out_dir << std::endl;
  return train_model(all, nullptr, train, log, on_epoch);
}

LoadedModel load_letter_reader(const std::string& path) {
  LoadedModel r = load_model(path);
  if (r.meta.num_classes != kLetterClasses) {
    throw std::runtime_error(path + ": has " + std::to_string(r.meta.num_classes) +
                             " classes, a letter reader has " + std::to_string(kLetterClasses) +
                             " (a digit, a letter, neither)");
  }
  return r;
}

Dataset mine_letter_crops(const MapFunction& map_of, const SceneGeneratorV2& gen,
                          const DetectConfig& det, const std::vector<double>& scales,
                          int64_t first, int64_t count, int64_t others, std::ostream* log) {
  MinedCrops mined;
  Progress progress(log, count, "mining v2 training scenes for the letter reader");
  for (int64_t i = 0; i < count; ++i) {
    const ProposedScene ps = propose_scene(gen, first + i, map_of, det, scales);
    const SceneV2& s = ps.scene;
    std::vector<size_t> neither;
    for (size_t k = 0; k < ps.props.size(); ++k) {
      if (ps.crops[k].empty()) continue;
      const cv::Rect& box = ps.props[k].box;
      if (best_truth(box, s.digits, -1).second >= 0) {
        mined.add(ps.crops[k], kLetterDigit);
        continue;
      }
      double letter = 0;
      for (const cv::Rect& l : s.letters) letter = std::max(letter, iou(box, l));
      if (letter >= 0.5) {
        mined.add(ps.crops[k], kLetterClass);
      } else {
        neither.push_back(k);
      }
    }
    std::mt19937_64 rng(s.seed ^ 0x1e77e5);
    std::shuffle(neither.begin(), neither.end(), rng);
    neither.resize(std::min(neither.size(), static_cast<size_t>(others)));
    for (size_t k : neither) mined.add(ps.crops[k], kLetterNeither);
    progress.update(i + 1, std::to_string(mined.size()) + " crops");
  }
  progress.finish();
  return mined.dataset("letters-v2/train", kLetterClasses);
}

std::string letter_reader_dir(const std::string& reader_dir) {
  return (std::filesystem::path(reader_dir) / "letters").string();
}

TrainResult train_letter_reader(const MapFunction& map_of, const Dataset& mnist,
                                const DetectConfig& det, const ReaderConfig& cfg,
                                std::ostream* log, const EpochCallback& on_epoch) {
  SceneV2Config mining;
  mining.max_side = 800;
  mining.distractor_fraction = cfg.letter_distractors;
  mining.any_letter = true;
  const Dataset crops = mine_letter_crops(
      map_of, SceneGeneratorV2(mnist, SceneSplit::kTrain, mining), det, cfg.scales,
      cfg.letter_first_scene, cfg.letter_scenes, cfg.letter_others, log);
  if (log) {
    *log << "letter reader: " << crops.size() << " crops, "
         << crops.labels.eq(kLetterDigit).sum().item<int64_t>() << " digits, "
         << crops.labels.eq(kLetterClass).sum().item<int64_t>() << " letters, "
         << crops.labels.eq(kLetterNeither).sum().item<int64_t>() << " neither" << std::endl;
  }
  TrainConfig train = cfg.train;
  train.epochs = cfg.letter_epochs;
  train.widths = cfg.letter_widths;
  train.out_dir = letter_reader_dir(cfg.train.out_dir);
  if (log) *log << "letter reader, into " << train.out_dir << std::endl;
  return train_model(crops, nullptr, train, log, on_epoch);
}

TrainResult train_reader(const MapFunction& map_of, LeNet judge, const Dataset& mnist,
                         const DetectConfig& det, const ReaderConfig& cfg, std::ostream* log,
                         const EpochCallback& on_epoch) {
  const bool regions = det.proposals == ProposalKind::kRegions;
  if (regions && cfg.rounds > 1 && cfg.region_scenes > 0) {
    // Round 1 as configured, into <out>/round1 with its mined crops beside it; round 2 mines
    // the next scenes with round 1's reader as the judge of negatives and trains on both.
    ReaderConfig first = cfg;
    first.rounds = 1;
    first.train.out_dir = (std::filesystem::path(cfg.train.out_dir) / "round1").string();
    first.save_mined = first.train.out_dir;
    first.first_stage = false;
    first.verifier = false;
    if (log) *log << "round 1 of 2, into " << first.train.out_dir << std::endl;
    const TrainResult r1 = train_reader(map_of, judge, mnist, det, first, log, on_epoch);
    ReaderConfig second = cfg;
    second.rounds = 1;
    second.first_region_scene = cfg.first_region_scene + cfg.region_scenes;
    second.use_mined.insert(second.use_mined.begin(), first.save_mined);
    if (log) *log << "round 2 of 2: round 1's reader judges the negatives" << std::endl;
    return train_reader(map_of, r1.net, mnist, det, second, log, on_epoch);
  }
  SceneV2Config mining;
  mining.max_side = 800;  // small scenes: the same digits and clutter, mined faster
  mining.distractor_fraction = cfg.distractor_fraction;
  // MNIST first, then the fresh crops, then those saved earlier.
  std::vector<at::Tensor> images = {mnist.images}, labels = {mnist.labels};
  if (!regions || cfg.region_scenes > 0) {
    const Dataset fresh =
        regions ? mine_region_crops(map_of, judge,
                                    SceneGeneratorV2(mnist, SceneSplit::kTrain, mining), det,
                                    cfg.scales, cfg.first_region_scene, cfg.region_scenes,
                                    mnist.num_classes, cfg, log)
                : mine_candidates(map_of, mnist, load_backgrounds(training_background_paths()),
                                  det, cfg, log);
    if (!cfg.save_mined.empty()) save_split(fresh, cfg.save_mined, "mined");
    images.push_back(fresh.images);
    labels.push_back(fresh.labels);
  }
  for (const std::string& dir : cfg.use_mined) {
    const Dataset d = load_split(dir, "mined", mnist.num_classes + 1);
    if (log) *log << "read " << d.size() << " mined crops from " << dir << std::endl;
    images.push_back(d.images);
    labels.push_back(d.labels);
  }
  TORCH_CHECK(images.size() > 1, "train_reader: no scenes to mine and no mined crops given");
  Dataset all;
  all.name = regions ? std::string(kRegionReaderData) + "/train" : "mnist+mined/train";
  all.num_classes = mnist.num_classes + 1;
  all.images = at::cat(images);
  all.labels = at::cat(labels);
  if (log) {
    const int64_t mined = all.size() - mnist.size();
    const int64_t neg = all.labels.eq(mnist.num_classes).sum().item<int64_t>();
    *log << "mined " << mined << " candidates: " << mined - neg << " digits, " << neg
         << " not digits" << std::endl;
  }
  TrainConfig train = cfg.train;
  if (regions) {
    train.epochs = cfg.region_epochs;
    train.widths = cfg.region_widths;
  }
  TrainResult result = train_model(all, nullptr, train, log, on_epoch);
  LeNet first_reader{nullptr};
  if (regions && cfg.first_stage) {
    TrainConfig first = train;
    first.widths = LeNetWidths{};
    first.out_dir = (std::filesystem::path(train.out_dir) / "first").string();
    if (log) *log << "first reader (Table 1 widths), into " << first.out_dir << std::endl;
    first_reader = train_model(all, nullptr, first, log, on_epoch).net;
  }
  if (regions && cfg.verifier) {
    train_verifier(map_of, first_reader, result.net, mnist, det, cfg, log, on_epoch);
  }
  if (regions && cfg.letters) train_letter_reader(map_of, mnist, det, cfg, log, on_epoch);
  return result;
}

}  // namespace adgap
