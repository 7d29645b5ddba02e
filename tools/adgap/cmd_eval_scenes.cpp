// adgap eval-scenes: localisation and reading measured on generated scenes, per map mode.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "adgap/eval/matching.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/io/render.h"
#include "adgap/scene/scene.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}
}  // namespace

int cmd_eval_scenes(int argc, char** argv) {
  MapOptions o;
  o.out = "docs/results";
  std::string modes = "paper,pooled,dense", data_dir = kDefaultDataDir, name = "scenes";
  int64_t count = 100, first_seed = 1000000, save = 6;
  double min_score = 0.9;
  SceneConfig sc;
  int64_t min_h = sc.min_digit_height, max_h = sc.max_digit_height;
  Args args("eval-scenes",
            "Generate scenes of MNIST test digits on photos (seeded, reproducible) and measure\n"
            "detection precision, recall, F1 at IoU >= 0.5 and reading accuracy per map mode.\n"
            "Writes <out>/<name>.json and <name>.md, and example images <name>-<mode>-<i>.png.");
  o.add_to(args);
  args.text("modes", &modes, "LIST", "comma-separated map modes to compare");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.integer("count", &count, 1, 100000, "scenes");
  args.integer("seed", &first_seed, 0, INT64_MAX, "seed of the first scene (scene i: seed + i)");
  args.integer("min-height", &min_h, 4, 1000, "px: smallest digit height");
  args.integer("max-height", &max_h, 4, 1000, "px: largest digit height");
  args.real("min-score", &min_score, 0, 1, "minimum softmax probability to keep a detection");
  args.integer("save", &save, 0, 1000, "example scenes to save as images per mode");
  args.text("name", &name, "NAME", "base name of the result files");
  if (!args.parse(argc, argv, 2)) return 0;
  sc.min_digit_height = static_cast<int>(min_h);
  sc.max_digit_height = static_cast<int>(max_h);
  const std::vector<std::string> mode_list = split_list(modes);
  if (mode_list.empty()) throw UsageError("--modes: no mode given");
  for (const std::string& m : mode_list) {
    try {
      parse_map_mode(m);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--modes: ") + e.what());
    }
  }
  MapSetup s = resolve(o);
  s.cfg.min_score = min_score;
  const Dataset digits = load_split(data_dir, "test", s.model.meta.num_classes);
  const std::vector<cv::Mat> bgs = load_backgrounds(default_background_paths());

  std::vector<Scene> scenes;
  for (int64_t i = 0; i < count; ++i) {
    scenes.push_back(make_scene(digits, bgs, static_cast<uint64_t>(first_seed + i), sc));
  }
  nlohmann::json results = {{"scenes", count},
                            {"first_seed", first_seed},
                            {"digit_height", {min_h, max_h}},
                            {"model", o.model},
                            {"polarity", o.polarity},
                            {"threshold", o.threshold},
                            {"min_score", min_score},
                            {"modes", nlohmann::json::object()}};
  std::string md =
      "| map mode | precision | recall | F1 | reading accuracy | label accuracy |\n"
      "|---|---:|---:|---:|---:|---:|\n";
  for (const std::string& m : mode_list) {
    s.cfg.heatmap.mode = parse_map_mode(m);
    const MatchCounts total = evaluate_on_scenes(
        scenes,
        [&](const cv::Mat& g) {
          return detect_digits(s.model.net, g, s.weights, s.cfg).detections;
        },
        [&](size_t i, const std::vector<Detection>& dets) {
          if (static_cast<int64_t>(i) >= save) return;
          const std::string base = o.out + "/" + name + "-" + m + "-" + std::to_string(i);
          write_png_atomic(base + ".png", draw_detections(scenes[i].image, dets));
        });
    results["modes"][m] = total.to_json();
    char row[256];
    std::snprintf(row, sizeof row, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", m.c_str(),
                  total.precision(), total.recall(), total.f1(), total.reading_accuracy(),
                  total.label_accuracy());
    md += row;
    std::cout << row << std::flush;
  }
  int64_t truths = 0;
  for (const Scene& sc_i : scenes) truths += static_cast<int64_t>(sc_i.digits.size());
  char caption[320];
  std::snprintf(caption, sizeof caption,
                "\n%lld scenes (seeds %lld..%lld) holding %lld digits %lld-%lld px high; IoU >= "
                "0.5, min score %.2f, polarity %s, threshold %s (k %.2g).\n",
                static_cast<long long>(count), static_cast<long long>(first_seed),
                static_cast<long long>(first_seed + count - 1), static_cast<long long>(truths),
                static_cast<long long>(min_h), static_cast<long long>(max_h), min_score,
                o.polarity.c_str(), o.threshold.c_str(), o.k);
  md += caption;
  atomic_write_text(o.out + "/" + name + ".json", results.dump(2) + "\n");
  atomic_write_text(o.out + "/" + name + ".md", md);
  std::cout << "wrote " << o.out << "/" << name << ".{json,md}\n";
  return 0;
}

}  // namespace adgap::cli
