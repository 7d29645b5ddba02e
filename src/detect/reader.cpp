#include "adgap/detect/reader.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <random>

#include "adgap/io/image.h"
#include "adgap/model/model_file.h"
#include "adgap/util/progress.h"

namespace adgap {

TrainConfig ReaderConfig::default_reader_training() {
  TrainConfig t;
  t.epochs = 8;  // chosen on the tune split with 6000 scenes (README)
  return t;
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

Dataset mine_candidates(const MapFunction& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg, std::ostream* log) {
  DetectConfig c = det;
  c.threshold.kind = ThresholdKind::kMeanStd;
  c.threshold.k = cfg.k;
  const int64_t background = digits.num_classes;
  std::vector<cv::Mat> crops;
  std::vector<int64_t> labels;
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
        cv::Mat u8;
        cand.digit.convertTo(u8, CV_8U, 255.0);
        crops.push_back(u8);
        labels.push_back(label);
      }
    }
    progress.update(i + 1, std::to_string(crops.size()) + " candidates");
  }
  progress.finish();
  Dataset d;
  d.name = "mined/train";
  d.num_classes = background + 1;
  const int64_t n = static_cast<int64_t>(crops.size());
  d.images = at::empty({n, 1, 28, 28}, at::kByte);
  for (int64_t i = 0; i < n; ++i) {
    d.images[i][0].copy_(at::from_blob(crops[i].data, {28, 28}, at::kByte));
  }
  d.labels = at::tensor(labels);
  return d;
}

Dataset mine_region_crops(const MapFunction& map_of, const SceneGeneratorV2& gen,
                          const DetectConfig& det, const std::vector<double>& scales,
                          int64_t first, int64_t count, int64_t classes, const ReaderConfig& cfg,
                          std::ostream* log) {
  std::vector<cv::Mat> crops;
  std::vector<int64_t> labels;
  Progress progress(log, count, "mining v2 training scenes");
  for (int64_t i = 0; i < count; ++i) {
    const SceneV2 s = gen.make(v2_first_seed(gen.split()) + static_cast<uint64_t>(first + i));
    const cv::Mat gray = to_gray(s.image);
    std::vector<std::pair<cv::Mat, int64_t>> near, far;
    for (const Proposal& p : all_proposals(gray, map_of, det, scales)) {
      double best = 0;
      int64_t label = classes;
      for (const DigitTruthV2& t : s.digits) {
        const double v = iou(p.box, t.truth.box);
        if (v > best) {
          best = v;
          if (v >= 0.5) label = t.truth.label;
        }
      }
      cv::Mat c;
      if (!context_normalize(gray, p.box, p.dark_on_light, c)) continue;
      cv::Mat u8;
      c.convertTo(u8, CV_8U, 255.0);
      if (label != classes) {
        crops.push_back(u8);
        labels.push_back(label);
      } else {
        (best >= 0.2 ? near : far).push_back({u8, label});
      }
    }
    // Near misses first, then a random sample of the rest (seeded by the scene).
    std::mt19937_64 rng(s.seed);
    std::shuffle(near.begin(), near.end(), rng);
    std::shuffle(far.begin(), far.end(), rng);
    near.insert(near.end(), far.begin(), far.end());
    const size_t keep = std::min(near.size(), static_cast<size_t>(cfg.negatives_per_scene));
    for (size_t k = 0; k < keep; ++k) {
      crops.push_back(near[k].first);
      labels.push_back(classes);
    }
    progress.update(i + 1, std::to_string(crops.size()) + " crops");
  }
  progress.finish();
  Dataset d;
  d.name = "mined-v2/train";
  d.num_classes = classes + 1;
  const int64_t n = static_cast<int64_t>(crops.size());
  d.images = at::empty({n, 1, 28, 28}, at::kByte);
  for (int64_t i = 0; i < n; ++i) {
    d.images[i][0].copy_(at::from_blob(crops[i].data, {28, 28}, at::kByte));
  }
  d.labels = at::tensor(labels);
  return d;
}

TrainResult train_reader(const MapFunction& map_of, const Dataset& mnist, const DetectConfig& det,
                         const ReaderConfig& cfg, std::ostream* log,
                         const EpochCallback& on_epoch) {
  const Dataset mined =
      det.proposals == ProposalKind::kRegions
          ? mine_region_crops(map_of, SceneGeneratorV2(mnist, SceneSplit::kTrain), det, cfg.scales,
                              0, cfg.region_scenes, mnist.num_classes, cfg, log)
          : mine_candidates(map_of, mnist, load_backgrounds(training_background_paths()), det,
                            cfg, log);
  if (log) {
    const int64_t neg = mined.labels.eq(mnist.num_classes).sum().item<int64_t>();
    *log << "mined " << mined.size() << " candidates: " << mined.size() - neg << " digits, " << neg
         << " not digits" << std::endl;
  }
  Dataset all;
  all.name = det.proposals == ProposalKind::kRegions ? kRegionReaderData : "mnist+mined/train";
  all.num_classes = mnist.num_classes + 1;
  all.images = at::cat({mnist.images, mined.images});
  all.labels = at::cat({mnist.labels, mined.labels});
  return train_model(all, nullptr, cfg.train, log, on_epoch);
}

}  // namespace adgap
