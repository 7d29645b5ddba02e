#include "adgap/eval/loc_bench.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "adgap/io/image.h"
#include "adgap/io/limits.h"
#include "adgap/util/json_int.h"

namespace adgap {

namespace {

std::vector<cv::Rect> boxes_of(const Scene& s) {
  std::vector<cv::Rect> b;
  for (const DigitTruth& d : s.digits) b.push_back(d.box);
  return b;
}

// One method through the benchmark.
LocBenchRow bench_method(Method m, const Detector& base, const std::vector<Scene>& tune,
                         const std::vector<Scene>& eval, const std::vector<RealPhoto>& real,
                         const LocBenchConfig& cfg, std::vector<std::vector<cv::Mat>>& grid_maps) {
  Detector d = base;  // shares the network; settings are this method's
  d.method = m;
  const bool multiscale = m == Method::kAdgap && !(d.scales.size() == 1 && d.scales[0] == 1.0);
  if (m != Method::kAdgap) d.scales = {1.0};  // the pyramid is part of our method
  // The reader is part of our method too; reader_for_all lends it to the others.
  if (m != Method::kAdgap && !cfg.reader_for_all) d.cfg.reader = LeNet(nullptr);
  auto detect = [&](const cv::Mat& gray, const cv::Mat& h01, double k,
                    std::vector<cv::Rect>* candidates = nullptr) {
    DetectConfig c = d.cfg;
    c.threshold.kind = ThresholdKind::kMeanStd;
    c.threshold.k = k;
    if (multiscale) return d.detect(gray, c, candidates);
    LeNet net = d.model.net;
    DetectOutput out = detect_in_map(net, gray, h01, c);
    if (candidates) *candidates = out.candidates;
    return out.detections;
  };
  LocBenchRow row;
  row.method = to_string(m);
  // Tune k on the held-out split.
  std::vector<MatchCounts> by_k(cfg.ks.size());
  for (const Scene& sc : tune) {
    const cv::Mat gray = to_gray(sc.image);
    const cv::Mat h = multiscale ? cv::Mat() : d.map(gray);
    for (size_t i = 0; i < cfg.ks.size(); ++i) {
      by_k[i] += match_detections(detect(gray, h, cfg.ks[i]), sc.digits);
    }
  }
  double best_f1 = -1;
  for (size_t i = 0; i < cfg.ks.size(); ++i) {
    if (by_k[i].f1() > best_f1) {
      best_f1 = by_k[i].f1();
      row.k = cfg.ks[i];
    }
  }
  // Evaluate.
  for (size_t i = 0; i < eval.size(); ++i) {
    const Scene& sc = eval[i];
    const cv::Mat gray = to_gray(sc.image);
    const cv::Mat h = d.map(gray);
    const std::vector<cv::Rect> boxes = boxes_of(sc);
    if (!boxes.empty()) {
      row.pointing_hits += pointing_hit(h, boxes);
      row.pointing_total += 1;
    }
    row.pxap.add(h, boxes);
    row.boxacc.add(h, boxes);
    std::vector<cv::Rect> cands;
    row.det += match_detections(detect(gray, h, row.k, &cands), sc.digits);
    row.cand_covered += covered_truths(cands, sc.digits);
    if (i < grid_maps.size()) grid_maps[i].push_back(h);
  }
  for (const RealPhoto& p : real) {
    const cv::Mat h = multiscale ? cv::Mat() : d.map(p.gray);
    std::vector<cv::Rect> cands;
    row.real +=
        match_detections(drop_ignored(detect(p.gray, h, row.k, &cands), p.ignore), p.digits);
    row.real_cand_covered += covered_truths(cands, p.digits);
  }
  return row;
}

}  // namespace

std::vector<RealPhoto> load_real_photos(const std::string& file, bool negatives) {
  const nlohmann::json j = nlohmann::json::parse(
      read_whole_file(file, kMaxJsonBytes, "real-photo annotations"), nullptr,
      /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::runtime_error(file + ": not valid JSON");
  auto rect = [](const nlohmann::json& a) {
    constexpr int64_t kMax = 1 << 20;  // pixels
    return cv::Rect(static_cast<int>(json_int(a.at(0), -kMax, kMax)),
                    static_cast<int>(json_int(a.at(1), -kMax, kMax)),
                    static_cast<int>(json_int(a.at(2), 0, kMax)),
                    static_cast<int>(json_int(a.at(3), 0, kMax)));
  };
  const auto photo = [&file](const std::string& path) {
    if (!std::filesystem::exists(path)) {
      throw std::runtime_error(file + ": " + path +
                               " is not installed (bash scripts/deps.sh --bench installs the "
                               "benchmark's photos)");
    }
    return to_gray(load_bgr(path));
  };
  std::vector<RealPhoto> out;
  try {
    for (const auto& p : j.value("photos", nlohmann::json::array())) {
      RealPhoto r;
      r.path = p.at("path").get<std::string>();
      r.gray = photo(r.path);
      for (const auto& d : p.at("digits"))
        r.digits.push_back({rect(d.at("box")), static_cast<int>(json_int(d.at("label"), 0, 255)), -1});
      for (const auto& b : p.at("ignore")) r.ignore.push_back(rect(b));
      out.push_back(std::move(r));
    }
    if (negatives && j.contains("negatives")) {
      for (const auto& p : j.at("negatives")) {
        RealPhoto r;
        r.path = p.at("path").get<std::string>();
        r.gray = photo(r.path);
        r.negative = true;
        r.kind = p.value("kind", std::string());
        out.push_back(std::move(r));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file + ": bad annotation (" + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::runtime_error(file + ": bad annotation (" + e.what() + ")");
  }
  return out;
}

std::vector<Scene> make_scenes(const Dataset& digits, const std::vector<cv::Mat>& backgrounds,
                               uint64_t first_seed, int64_t count, const SceneConfig& cfg) {
  std::vector<Scene> v;
  for (int64_t i = 0; i < count; ++i) {
    v.push_back(make_scene(digits, backgrounds, first_seed + static_cast<uint64_t>(i), cfg));
  }
  return v;
}

LocBenchResult run_loc_bench(const Detector& det, const Dataset& digits,
                             const std::vector<RealPhoto>& real, const LocBenchConfig& cfg,
                             std::ostream* log) {
  LocBenchResult res;
  res.config = cfg;
  const std::vector<cv::Mat> bgs = load_backgrounds(default_background_paths());
  const std::vector<Scene> tune =
      make_scenes(digits, bgs, kTuneSplitSeed, cfg.tune_count, benchmark_scene_config());
  res.eval = cfg.eval_on_tune ? tune
                              : make_scenes(digits, bgs, kEvalSplitSeed, cfg.eval_count,
                                            benchmark_scene_config());
  res.eval_seed = cfg.eval_on_tune ? kTuneSplitSeed : kEvalSplitSeed;
  res.tune_scenes = static_cast<int64_t>(tune.size());
  res.real_photos = static_cast<int64_t>(real.size());
  res.grid_maps.resize(
      std::min<size_t>(static_cast<size_t>(std::max<int64_t>(cfg.grid, 0)), res.eval.size()));
  for (Method m : cfg.methods) {
    res.rows.push_back(bench_method(m, det, tune, res.eval, real, cfg, res.grid_maps));
    const LocBenchRow& r = res.rows.back();
    if (log) {
      char line[320];
      std::snprintf(line, sizeof line,
                    "%-16s k %.1f  pointing %.3f  PxAP %.3f  MaxBoxAccV2 %.3f  cand.recall %.3f  "
                    "P %.3f R %.3f F1 %.3f read %.3f  real cand.recall %.3f F1 %.3f read %.3f",
                    r.method.c_str(), r.k, r.pointing_game(), r.pxap.value(), r.boxacc.value(),
                    r.candidate_recall(), r.det.precision(), r.det.recall(), r.det.f1(),
                    r.det.reading_accuracy(), r.real_candidate_recall(), r.real.f1(),
                    r.real.reading_accuracy());
      *log << line << std::endl;
    }
  }
  return res;
}

std::vector<ModeResult> evaluate_map_modes(
    const Detector& det, const std::vector<Scene>& scenes, const std::vector<MapMode>& modes,
    const std::function<void(MapMode, size_t, const std::vector<Detection>&)>& each) {
  std::vector<ModeResult> out;
  for (MapMode m : modes) {
    Detector d = det;
    d.cfg.heatmap.mode = m;
    ModeResult r{m, {}};
    r.counts = evaluate_on_scenes(
        scenes, [&](const cv::Mat& g) { return d.detect(g); },
        [&](size_t i, const std::vector<Detection>& dets) {
          if (each) each(m, i, dets);
        });
    out.push_back(r);
  }
  return out;
}

}  // namespace adgap
