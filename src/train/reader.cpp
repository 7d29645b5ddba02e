#include "adgap/train/reader.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include "adgap/eval/matching.h"
#include "adgap/io/image.h"

namespace adgap {

std::vector<std::string> training_background_paths() {
  const std::string dir = "/usr/share/doc/opencv-doc/examples/data/";
  return {dir + "aloeL.jpg",       dir + "leuvenA.jpg",
          dir + "blox.jpg",        dir + "Blender_Suzanne1.jpg",
          dir + "basketball1.png", dir + "rubberwhale1.png",
          dir + "chicky_512.png",  dir + "ela_original.jpg",
          dir + "graf1.png",       dir + "box_in_scene.png",
          dir + "left01.jpg",      dir + "messi5.jpg",
          dir + "stuff.jpg",       dir + "board.jpg"};
}

Dataset mine_candidates(const std::function<cv::Mat(const cv::Mat&)>& map_of, const Dataset& digits,
                        const std::vector<cv::Mat>& backgrounds, const DetectConfig& det,
                        const ReaderConfig& cfg) {
  DetectConfig c = det;
  c.threshold.kind = ThresholdKind::kMeanStd;
  c.threshold.k = cfg.k;
  const int64_t background = digits.num_classes;
  std::vector<cv::Mat> crops;
  std::vector<int64_t> labels;
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
  }
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

TrainResult train_reader(const Dataset& mnist, const Dataset& mined, const ReaderConfig& cfg,
                         std::ostream* log) {
  Dataset all;
  all.name = "mnist+mined/train";
  all.num_classes = mnist.num_classes + 1;
  all.images = at::cat({mnist.images, mined.images});
  all.labels = at::cat({mnist.labels, mined.labels});
  return train_model(all, nullptr, cfg.train, log);
}

}  // namespace adgap
