#include "adgap/eval/bench_v2.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "adgap/detect/numbers.h"
#include "adgap/io/image.h"

namespace adgap {

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

V2Counts& V2Counts::operator+=(const V2Counts& o) {
  det += o.det;
  covered += o.covered;
  numbers += o.numbers;
  numbers_exact += o.numbers_exact;
  distractors += o.distractors;
  distractor_hits += o.distractor_hits;
  scenes += o.scenes;
  megapixels += o.megapixels;
  for (const auto& [cond, buckets] : o.by) {
    for (const auto& [name, b] : buckets) {
      BucketCounts& m = by[cond][name];
      m.truths += b.truths;
      m.covered += b.covered;
      m.found += b.found;
      m.read += b.read;
    }
  }
  return *this;
}

nlohmann::json V2Counts::to_json() const {
  nlohmann::json conds = nlohmann::json::object();
  for (const auto& [cond, buckets] : by) {
    for (const auto& [name, b] : buckets) {
      conds[cond][name] = {{"digits", b.truths},
                           {"covered", b.covered},
                           {"found", b.found},
                           {"read", b.read}};
    }
  }
  return {{"scenes", scenes},
          {"megapixels", megapixels},
          {"detection", det.to_json()},
          {"candidate_recall", candidate_recall()},
          {"covered", covered},
          {"numbers", numbers},
          {"numbers_exact", numbers_exact},
          {"numbers_exact_rate", numbers_exact_rate()},
          {"distractors", distractors},
          {"distractor_hits", distractor_hits},
          {"conditions", conds}};
}

namespace {

std::string height_bucket(int h) {
  if (h < 20) return "a. 12-19 px";
  if (h < 40) return "b. 20-39 px";
  if (h < 80) return "c. 40-79 px";
  if (h < 160) return "d. 80-159 px";
  return "e. 160+ px";
}

std::string contrast_bucket(double c) {
  if (c < 0.35) return "a. 0.20-0.35";
  if (c < 0.5) return "b. 0.35-0.50";
  return "c. 0.50-1";
}

std::string size_bucket(double mp) {
  if (mp < 0.35) return "a. under 0.35 MP";
  if (mp < 1.5) return "b. 0.35-1.5 MP";
  if (mp < 5) return "c. 1.5-5 MP";
  return "d. 12 MP (phone)";
}

std::string style_bucket(const std::string& style) {
  if (style == "mnist") return "handwriting (MNIST test)";
  static const std::vector<std::string> held_out = {"NimbusSans", "C059", "URWGothic"};
  for (const std::string& h : held_out) {
    if (style.rfind(h, 0) == 0) return "font not in training";
  }
  return "font";
}

}  // namespace

V2Counts score_scene_v2(const SceneV2& scene, const V2Output& out) {
  V2Counts c;
  c.scenes = 1;
  c.megapixels = scene.image.total() / 1e6;
  const std::vector<DigitTruth> truths = scene.truths();
  c.det = match_detections(out.detections, truths);
  const std::vector<int> owner = assign_detections(out.detections, truths);
  for (size_t i = 0; i < truths.size(); ++i) {
    const DigitTruthV2& t = scene.digits[i];
    const bool covered = std::any_of(out.candidates.begin(), out.candidates.end(),
                                     [&](const cv::Rect& b) { return iou(b, t.truth.box) >= 0.5; });
    const bool found = owner[i] >= 0;
    const bool read = found && out.detections[owner[i]].label == t.truth.label;
    c.covered += covered;
    auto add = [&](const std::string& cond, const std::string& bucket) {
      BucketCounts& b = c.by[cond][bucket];
      b.truths += 1;
      b.covered += covered;
      b.found += found;
      b.read += read;
    };
    add("height", height_bucket(t.truth.box.height));
    add("polarity", t.dark_on_light ? "dark on light" : "light on dark");
    add("style", style_bucket(t.style));
    add("context", t.number >= 0 ? "in a number" : "alone");
    add("contrast", contrast_bucket(t.contrast));
    add("scene size", size_bucket(c.megapixels));
  }
  const std::vector<NumberGroup> read = group_numbers(out.detections);
  for (const NumberTruth& n : scene.numbers) {
    c.numbers += 1;
    c.numbers_exact += std::any_of(read.begin(), read.end(), [&](const NumberGroup& g) {
      return g.text == n.text && iou(g.box, n.box) >= 0.5;
    });
  }
  c.distractors = static_cast<int64_t>(scene.distractors.size());
  for (const Detection& d : out.detections) {
    const cv::Point centre(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    c.distractor_hits += std::any_of(scene.distractors.begin(), scene.distractors.end(),
                                     [&](const cv::Rect& r) { return r.contains(centre); });
  }
  return c;
}

V2Counts evaluate_v2(const std::vector<SceneV2>& scenes, const V2Detector& detect,
                     const std::function<void(size_t, const V2Output&)>& each) {
  V2Counts total;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const V2Output out = detect(to_gray(scenes[i].image));
    total += score_scene_v2(scenes[i], out);
    if (each) each(i, out);
  }
  return total;
}

std::string conditions_markdown(const V2Counts& c) {
  std::string md =
      "| condition | bucket | digits | candidate recall | detection recall | read |\n"
      "|---|---|---:|---:|---:|---:|\n";
  char line[256];
  for (const auto& [cond, buckets] : c.by) {
    for (const auto& [name, b] : buckets) {
      const double n = std::max<int64_t>(1, b.truths);
      // Bucket names carry a sort prefix ("a. "); the table shows them without it.
      const std::string shown = name.size() > 3 && name[1] == '.' ? name.substr(3) : name;
      std::snprintf(line, sizeof line, "| %s | %s | %lld | %.3f | %.3f | %.3f |\n", cond.c_str(),
                    shown.c_str(), static_cast<long long>(b.truths), b.covered / n, b.found / n,
                    b.read / n);
      md += line;
    }
  }
  return md;
}

}  // namespace adgap
