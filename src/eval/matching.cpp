#include "adgap/eval/matching.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "adgap/io/image.h"

namespace adgap {

void Reliability::add(double score, bool is_right) {
  const int b = std::clamp(static_cast<int>(score * kBins), 0, kBins - 1);
  ++count[b];
  right[b] += is_right;
  score_sum[b] += score;
}

Reliability& Reliability::operator+=(const Reliability& o) {
  for (int b = 0; b < kBins; ++b) {
    count[b] += o.count[b];
    right[b] += o.right[b];
    score_sum[b] += o.score_sum[b];
  }
  return *this;
}

int64_t Reliability::total() const { return std::accumulate(count.begin(), count.end(), int64_t{0}); }

double Reliability::ece() const {
  const int64_t n = total();
  if (n == 0) return 0;
  double e = 0;
  for (int b = 0; b < kBins; ++b) {
    if (count[b] == 0) continue;
    e += std::abs(double(right[b]) / count[b] - score_sum[b] / count[b]) * count[b] / n;
  }
  return e;
}

nlohmann::json Reliability::to_json() const {
  nlohmann::json bins = nlohmann::json::array();
  for (int b = 0; b < kBins; ++b) {
    bins.push_back({{"from", double(b) / kBins},
                    {"to", double(b + 1) / kBins},
                    {"detections", count[b]},
                    {"right", right[b]},
                    {"mean_score", count[b] ? score_sum[b] / count[b] : 0.0}});
  }
  return {{"ece", ece()}, {"bins", bins}};
}

MatchCounts& MatchCounts::operator+=(const MatchCounts& o) {
  truths += o.truths;
  detections += o.detections;
  matched += o.matched;
  read += o.read;
  reliability += o.reliability;
  return *this;
}

nlohmann::json MatchCounts::to_json() const {
  return {{"truths", truths},
          {"detections", detections},
          {"matched", matched},
          {"read", read},
          {"precision", precision()},
          {"recall", recall()},
          {"f1", f1()},
          {"reading_accuracy", reading_accuracy()},
          {"reading_f1", reading_f1()},
          {"label_accuracy", label_accuracy()},
          {"reliability", reliability.to_json()}};
}

std::vector<int> assign_detections(const std::vector<Detection>& dets,
                                   const std::vector<DigitTruth>& truths, double min_iou) {
  std::vector<size_t> order(dets.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return dets[a].score > dets[b].score; });
  std::vector<int> owner(truths.size(), -1);
  for (size_t i : order) {
    int best = -1;
    double best_iou = min_iou;
    for (size_t t = 0; t < truths.size(); ++t) {
      const double v = iou(dets[i].box, truths[t].box);
      if (owner[t] < 0 && v >= best_iou) {
        best = static_cast<int>(t);
        best_iou = v;
      }
    }
    if (best >= 0) owner[best] = static_cast<int>(i);
  }
  return owner;
}

MatchCounts count_matches(const std::vector<Detection>& dets,
                          const std::vector<DigitTruth>& truths, const std::vector<int>& owner) {
  MatchCounts c;
  c.truths = static_cast<int64_t>(truths.size());
  c.detections = static_cast<int64_t>(dets.size());
  std::vector<bool> right(dets.size(), false);
  for (size_t t = 0; t < truths.size(); ++t) {
    if (owner[t] < 0) continue;
    ++c.matched;
    if (dets[owner[t]].label == truths[t].label) {
      ++c.read;
      right[owner[t]] = true;
    }
  }
  for (size_t i = 0; i < dets.size(); ++i) c.reliability.add(dets[i].score, right[i]);
  return c;
}

MatchCounts match_detections(const std::vector<Detection>& dets,
                             const std::vector<DigitTruth>& truths, double min_iou) {
  return count_matches(dets, truths, assign_detections(dets, truths, min_iou));
}

std::vector<Detection> drop_ignored(const std::vector<Detection>& dets,
                                    const std::vector<cv::Rect>& ignore) {
  std::vector<Detection> kept;
  for (const Detection& d : dets) {
    const cv::Point c(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    if (std::none_of(ignore.begin(), ignore.end(), [&](const cv::Rect& r) { return r.contains(c); })) {
      kept.push_back(d);
    }
  }
  return kept;
}

int64_t covered_truths(const std::vector<cv::Rect>& boxes, const std::vector<DigitTruth>& truths,
                       double min_iou) {
  int64_t n = 0;
  for (const DigitTruth& t : truths) {
    n += std::any_of(boxes.begin(), boxes.end(),
                     [&](const cv::Rect& b) { return iou(b, t.box) >= min_iou; });
  }
  return n;
}

MatchCounts evaluate_on_scenes(
    const std::vector<Scene>& scenes, const SceneDetector& detect,
    const std::function<void(size_t, const std::vector<Detection>&)>& each) {
  MatchCounts total;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const std::vector<Detection> dets = detect(to_gray(scenes[i].image));
    total += match_detections(dets, scenes[i].digits);
    if (each) each(i, dets);
  }
  return total;
}

}  // namespace adgap
