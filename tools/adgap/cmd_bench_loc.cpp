// adgap bench-loc: every localisation method on the generated benchmark - map metrics
// (pointing game, PxAP, MaxBoxAccV2) and end-to-end detection and reading, with each
// method's threshold tuned on the held-out split only.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "adgap/eval/loc_metrics.h"
#include "adgap/eval/matching.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "adgap/io/render.h"
#include "adgap/methods/methods.h"
#include "adgap/scene/scene.h"
#include "commands.h"
#include "map_options.h"

#include <opencv2/imgproc.hpp>

namespace adgap::cli {

namespace {

const double kKs[] = {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0};  // mean + k std candidates

std::vector<Scene> make_split(const Dataset& digits, const std::vector<cv::Mat>& bgs, uint64_t seed,
                              int64_t n) {
  std::vector<Scene> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(make_scene(digits, bgs, seed + i, benchmark_scene_config()));
  return v;
}

std::vector<cv::Rect> boxes_of(const Scene& s) {
  std::vector<cv::Rect> b;
  for (const DigitTruth& d : s.digits) b.push_back(d.box);
  return b;
}

struct Row {
  std::string name;
  double k = 2;
  int64_t pointing_hits = 0, pointing_total = 0;
  PxAP pxap;
  MaxBoxAccV2 boxacc;
  MatchCounts det;
  MatchCounts real;  // on the hand-annotated photos
};

// A hand-annotated photo: its digits and regions whose small print is not annotated.
struct RealPhoto {
  std::string path;
  cv::Mat gray;
  std::vector<DigitTruth> digits;
  std::vector<cv::Rect> ignore;
};

std::vector<RealPhoto> load_real_photos(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot open the real-photo annotations");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::runtime_error(file + ": not valid JSON");
  auto rect = [](const nlohmann::json& a) {
    return cv::Rect(a.at(0).get<int>(), a.at(1).get<int>(), a.at(2).get<int>(), a.at(3).get<int>());
  };
  std::vector<RealPhoto> out;
  try {
    for (const auto& p : j.at("photos")) {
      RealPhoto r;
      r.path = p.at("path").get<std::string>();
      r.gray = to_gray(load_bgr(r.path));
      for (const auto& d : p.at("digits"))
        r.digits.push_back({rect(d.at("box")), d.at("label").get<int>(), -1});
      for (const auto& b : p.at("ignore")) r.ignore.push_back(rect(b));
      out.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file + ": bad annotation (" + e.what() + ")");
  }
  return out;
}

// Detections whose centre lies in an ignored region do not count either way.
std::vector<Detection> drop_ignored(const std::vector<Detection>& dets,
                                    const std::vector<cv::Rect>& ignore) {
  std::vector<Detection> kept;
  for (const Detection& d : dets) {
    const cv::Point c(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    bool skip = false;
    for (const cv::Rect& r : ignore) skip |= r.contains(c);
    if (!skip) kept.push_back(d);
  }
  return kept;
}

}  // namespace

int cmd_bench_loc(int argc, char** argv) {
  MapOptions o;
  o.out = "docs/results";
  o.mode = "paper";  // AdGAP's map mode (and the weighting baselines'), chosen on the tune split
  std::string methods = "all", data_dir = kDefaultDataDir, scales = "1,0.5,0.25",
              name = "loc_bench";
  std::string real_file = "bench/real_photos.json";
  int64_t eval_count = 500, tune_count = 100, grid = 4;
  double min_score = 0.8;  // chosen on the tune split
  bool eval_on_tune = false, reader_for_all = false;
  Args args("bench-loc",
            "Measure localisation on the generated benchmark (MNIST test digits 14-120 px on\n"
            "photos, both polarities, contrast, blur, noise, some scenes empty): pointing game,\n"
            "PxAP, MaxBoxAccV2 of each method's map, and detection precision / recall / F1 at\n"
            "IoU >= 0.5 and reading accuracy, each method's threshold k (mean + k std) tuned on\n"
            "the tune split. Writes <out>/<name>.{md,json} and <name>_grid.png.");
  o.add_to(args);
  args.text("methods", &methods, "LIST", "comma-separated method names, or all");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.text("scales", &scales, "LIST", "adgap's image pyramid scales");
  args.text("real", &real_file, "FILE", "hand-annotated photos (JSON; empty: none)");
  args.integer("eval-count", &eval_count, 1, 100000, "evaluation scenes");
  args.integer("tune-count", &tune_count, 1, 100000, "tuning scenes");
  args.integer("grid", &grid, 0, 20, "scenes in the figure grid");
  args.real("min-score", &min_score, 0, 1, "minimum softmax probability to keep a detection");
  args.flag("eval-on-tune", &eval_on_tune, "report on the tune split (for choosing settings)");
  args.flag("reader-for-all", &reader_for_all,
            "let the reader classify every method's crops, not only adgap's");
  args.text("name", &name, "NAME", "base name of the result files");
  if (!args.parse(argc, argv, 2)) return 0;
  std::vector<Method> list;
  if (methods == "all") {
    list = all_methods();
  } else {
    std::stringstream ss(methods);
    for (std::string m; std::getline(ss, m, ',');) {
      try {
        list.push_back(parse_method(m));
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--methods: ") + e.what());
      }
    }
  }
  const std::vector<double> pyramid = parse_scales(scales);
  MapSetup s = resolve(o);
  s.cfg.min_score = min_score;
  const FilterImportance& imp = s.importance;
  const Dataset digits = load_split(data_dir, "test", s.model.meta.num_classes);
  const std::vector<cv::Mat> bgs = load_backgrounds(default_background_paths());
  const std::vector<Scene> tune = make_split(digits, bgs, kTuneSplitSeed, tune_count);
  const std::vector<Scene> eval =
      eval_on_tune ? tune : make_split(digits, bgs, kEvalSplitSeed, eval_count);
  LeNet& net = s.model.net;
  const std::vector<RealPhoto> real =
      real_file.empty() ? std::vector<RealPhoto>{} : load_real_photos(real_file);

  std::vector<Row> rows;
  std::vector<std::vector<cv::Mat>> grid_maps(std::min<int64_t>(grid, eval.size()));
  for (Method m : list) {
    auto map_of = [&](const cv::Mat& g) { return method_map(m, net, imp, g, s.cfg.heatmap); };
    const bool multiscale = m == Method::kAdgap && !(pyramid.size() == 1 && pyramid[0] == 1.0);
    auto detect = [&](const cv::Mat& gray, const cv::Mat& h01, double k) {
      DetectConfig c = s.cfg;
      // The reader is part of our method; --reader-for-all lends it to the others too.
      if (m != Method::kAdgap && !reader_for_all) c.reader = LeNet(nullptr);
      c.threshold.kind = ThresholdKind::kMeanStd;
      c.threshold.k = k;
      return multiscale ? detect_multiscale(net, gray, map_of, c, pyramid)
                        : detect_in_map(net, gray, h01, c).detections;
    };
    // Tune k on the held-out split.
    Row row;
    row.name = to_string(m);
    double best_f1 = -1;
    std::vector<MatchCounts> by_k(std::size(kKs));
    for (const Scene& sc : tune) {
      const cv::Mat gray = to_gray(sc.image);
      const cv::Mat h = multiscale ? cv::Mat() : map_of(gray);
      for (size_t i = 0; i < std::size(kKs); ++i)
        by_k[i] += match_detections(detect(gray, h, kKs[i]), sc.digits);
    }
    for (size_t i = 0; i < std::size(kKs); ++i) {
      if (by_k[i].f1() > best_f1) {
        best_f1 = by_k[i].f1();
        row.k = kKs[i];
      }
    }
    // Evaluate.
    for (size_t i = 0; i < eval.size(); ++i) {
      const Scene& sc = eval[i];
      const cv::Mat gray = to_gray(sc.image);
      const cv::Mat h = map_of(gray);
      const std::vector<cv::Rect> boxes = boxes_of(sc);
      if (!boxes.empty()) {
        row.pointing_hits += pointing_hit(h, boxes);
        row.pointing_total += 1;
      }
      row.pxap.add(h, boxes);
      row.boxacc.add(h, boxes);
      row.det += match_detections(detect(gray, h, row.k), sc.digits);
      if (i < grid_maps.size()) grid_maps[i].push_back(h);
    }
    for (const RealPhoto& p : real) {
      const cv::Mat h = multiscale ? cv::Mat() : map_of(p.gray);
      row.real += match_detections(drop_ignored(detect(p.gray, h, row.k), p.ignore), p.digits);
    }
    std::printf(
        "%-16s k %.1f  pointing %.3f  PxAP %.3f  MaxBoxAccV2 %.3f  P %.3f R %.3f F1 %.3f read %.3f "
        " real F1 %.3f read %.3f\n",
        row.name.c_str(), row.k,
        double(row.pointing_hits) / std::max<int64_t>(1, row.pointing_total), row.pxap.value(),
        row.boxacc.value(), row.det.precision(), row.det.recall(), row.det.f1(),
        row.det.reading_accuracy(), row.real.f1(), row.real.reading_accuracy());
    std::fflush(stdout);
    rows.push_back(std::move(row));
  }

  // Results table, JSON and figure grid.
  std::string md =
      "| method | pointing game | PxAP | MaxBoxAccV2 | precision | recall | F1 | reading accuracy "
      "| tuned k |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  nlohmann::json j = {{"eval_split_seed", eval_on_tune ? kTuneSplitSeed : kEvalSplitSeed},
                      {"eval_scenes", eval.size()},
                      {"tune_split_seed", kTuneSplitSeed},
                      {"tune_scenes", tune.size()},
                      {"adgap",
                       {{"mode", o.mode},
                        {"polarity", o.polarity},
                        {"border", o.border},
                        {"scales", pyramid},
                        {"reader", s.reader_path}}},
                      {"reader_for_all", reader_for_all},
                      {"min_score", min_score},
                      {"methods", nlohmann::json::array()}};
  for (const Row& r : rows) {
    const double point = double(r.pointing_hits) / std::max<int64_t>(1, r.pointing_total);
    char line[256];
    std::snprintf(line, sizeof line,
                  "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f |\n",
                  r.name.c_str(), point, r.pxap.value(), r.boxacc.value(), r.det.precision(),
                  r.det.recall(), r.det.f1(), r.det.reading_accuracy(), r.k);
    md += line;
    j["methods"].push_back({{"method", r.name},
                            {"pointing_game", point},
                            {"pxap", r.pxap.value()},
                            {"maxboxacc_v2", r.boxacc.value()},
                            {"tuned_k", r.k},
                            {"detection", r.det.to_json()},
                            {"real_photos", r.real.to_json()}});
  }
  int64_t truths = 0, empty = 0;
  for (const Scene& sc : eval) {
    truths += static_cast<int64_t>(sc.digits.size());
    empty += sc.digits.empty();
  }
  char cap[512];
  std::snprintf(cap, sizeof cap,
                "\n%zu %s scenes (seeds from %llu; %lld digits, %lld scenes without one), "
                "thresholds tuned on %zu scenes of the tune split (seeds from %llu). adgap: %s "
                "maps, polarity %s, border %s, pyramid %s, reader %s%s; min score %.2f.\n",
                eval.size(), eval_on_tune ? "tune-split" : "evaluation",
                static_cast<unsigned long long>(eval_on_tune ? kTuneSplitSeed : kEvalSplitSeed),
                static_cast<long long>(truths), static_cast<long long>(empty), tune.size(),
                static_cast<unsigned long long>(kTuneSplitSeed), o.mode.c_str(), o.polarity.c_str(),
                o.border.c_str(), scales.c_str(),
                s.reader_path.empty() ? "none" : s.reader_path.c_str(),
                reader_for_all ? " (for every method)" : " (for adgap only)", min_score);
  md += cap;
  if (!real.empty()) {
    md += "\nHand-annotated photos (" + real_file + ", " + std::to_string(real.size()) +
          " photo(s), " + std::to_string(rows.empty() ? 0 : rows[0].real.truths) +
          " digits), same tuned thresholds:\n\n"
          "| method | precision | recall | F1 | reading accuracy |\n|---|---:|---:|---:|---:|\n";
    for (const Row& r : rows) {
      char line[160];
      std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f |\n", r.name.c_str(),
                    r.real.precision(), r.real.recall(), r.real.f1(), r.real.reading_accuracy());
      md += line;
    }
  }
  atomic_write_text(o.out + "/" + name + ".md", md);
  atomic_write_text(o.out + "/" + name + ".json", j.dump(2) + "\n");
  if (!grid_maps.empty()) {
    constexpr int kCellW = 200, kCellH = 150, kLabel = 22;
    cv::Mat fig(kLabel + kCellH * static_cast<int>(grid_maps.size()),
                kCellW * static_cast<int>(rows.size() + 1), CV_8UC3, cv::Scalar(255, 255, 255));
    for (size_t c = 0; c <= rows.size(); ++c) {
      cv::putText(fig, c == 0 ? "scene" : rows[c - 1].name, {static_cast<int>(c) * kCellW + 4, 16},
                  cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    for (size_t r = 0; r < grid_maps.size(); ++r) {
      for (size_t c = 0; c <= rows.size(); ++c) {
        cv::Mat cell =
            c == 0 ? eval[r].image.clone() : overlay_heatmap(eval[r].image, grid_maps[r][c - 1]);
        cv::resize(cell, cell, {kCellW - 4, kCellH - 4}, 0, 0, cv::INTER_AREA);
        cell.copyTo(
            fig(cv::Rect(static_cast<int>(c) * kCellW + 2,
                         kLabel + static_cast<int>(r) * kCellH + 2, kCellW - 4, kCellH - 4)));
      }
    }
    write_png_atomic(o.out + "/" + name + "_grid.png", fig);
  }
  std::cout << md << "wrote " << o.out << "/" << name << ".{md,json}"
            << (grid_maps.empty() ? "" : " and " + name + "_grid.png") << "\n";
  return 0;
}

}  // namespace adgap::cli
