#include "adgap/eval/bench_v2.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "adgap/detect/numbers.h"
#include "adgap/io/image.h"

namespace adgap {

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

V2Counts score_scene_v2(const SceneV2& scene, const cv::Mat& gray, const V2Output& out) {
  V2Counts c;
  c.scenes = 1;
  c.megapixels = scene.image.total() / 1e6;
  const std::vector<DigitTruth> truths = scene.truths();
  const std::vector<int> owner = assign_detections(out.detections, truths);
  c.det = count_matches(out.detections, truths, owner);
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
  // The numbers as the product reads them (joined across separator marks).
  const std::vector<SeparatedNumber> read = read_separated_numbers(gray, out.detections);
  for (const NumberTruth& n : scene.numbers) {
    c.numbers += 1;
    c.numbers_exact += std::any_of(read.begin(), read.end(), [&](const SeparatedNumber& r) {
      return r.group.text == n.text && iou(r.group.box, n.box) >= 0.5;
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
    const cv::Mat gray = to_gray(scenes[i].image);
    const V2Output out = detect(gray);
    total += score_scene_v2(scenes[i], gray, out);
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

V2Output detect_v2(const Detector& det, const cv::Mat& gray) {
  V2Output out;
  out.detections = det.detect(gray, det.cfg, &out.candidates);
  return out;
}

namespace {

void log_counts(std::ostream* log, const std::string& what, const V2Counts& c) {
  if (!log) return;
  char line[400];
  std::snprintf(line, sizeof line,
                "%-28s %4lld scenes %5lld digits  cand.recall %.3f  P %.3f R %.3f F1 %.3f "
                "read %.3f reading F1 %.3f  numbers exact %.3f",
                what.c_str(), static_cast<long long>(c.scenes), static_cast<long long>(c.det.truths),
                c.candidate_recall(), c.det.precision(), c.det.recall(), c.det.f1(),
                c.det.reading_accuracy(), c.det.reading_f1(), c.numbers_exact_rate());
  *log << line << std::endl;
}

}  // namespace

BenchV2Result run_bench_v2(const Detector& det, const Dataset& digits,
                           const std::vector<RealPhoto>& real, const BenchV2Config& cfg,
                           std::ostream* log) {
  BenchV2Result r;
  r.config = cfg;
  const SceneSplit split = cfg.on_tune ? SceneSplit::kTune : SceneSplit::kEval;
  const auto detect = [&](const Detector& d) {
    return [&d](const cv::Mat& gray) { return detect_v2(d, gray); };
  };
  {
    const SceneGeneratorV2 gen(digits, split);
    const std::vector<SceneV2> scenes = gen.make_range(0, cfg.eval_count);
    r.eval = evaluate_v2(scenes, detect(det));
    log_counts(log, "detector", r.eval);
    const std::vector<SceneV2> first(
        scenes.begin(), scenes.begin() + std::min<int64_t>(cfg.methods_count, cfg.eval_count));
    for (Method m : cfg.methods) {
      Detector d = det;
      d.method = m;
      BenchV2Result::MethodRow row;
      row.method = to_string(m);
      d.cfg.region_proposals = false;
      row.hotspots = evaluate_v2(first, detect(d));
      log_counts(log, row.method + " hotspots", row.hotspots);
      d.cfg.region_proposals = true;
      row.with_regions = evaluate_v2(first, detect(d));
      log_counts(log, row.method + " hotspots+regions", row.with_regions);
      r.methods.push_back(row);
    }
    Detector d = det;
    d.cfg.map_proposals = false;
    r.regions_only = evaluate_v2(first, detect(d));
    log_counts(log, "regions, no map", r.regions_only);
  }
  if (cfg.phone_count > 0) {
    SceneV2Config phone;
    phone.phone_fraction = 1.0;
    const SceneGeneratorV2 gen(digits, split, phone);
    r.phone = evaluate_v2(gen.make_range(kPhoneSceneOffset, cfg.phone_count), detect(det));
    log_counts(log, "phone-size scenes", r.phone);
  }
  if (cfg.text_count > 0) {
    SceneV2Config text;
    text.distractor_fraction = kTextDistractors;
    text.any_letter = true;
    const SceneGeneratorV2 gen(digits, split, text);
    r.text = evaluate_v2(gen.make_range(kTextSceneOffset, cfg.text_count), detect(det));
    log_counts(log, "text condition", r.text);
  }
  for (const RealPhoto& p : real) {
    RealPhotoResult pr;
    pr.path = p.path;
    pr.negative = p.negative;
    pr.kind = p.kind;
    const V2Output out = detect_v2(det, p.gray);
    pr.det = match_detections(drop_ignored(out.detections, p.ignore), p.digits);
    pr.covered = covered_truths(out.candidates, p.digits);
    r.real.push_back(pr);
    if (log) {
      *log << "  " << p.path << ": " << pr.det.read << " of " << pr.det.truths << " read, "
           << pr.det.detections << " detections" << std::endl;
    }
  }
  return r;
}

}  // namespace adgap
