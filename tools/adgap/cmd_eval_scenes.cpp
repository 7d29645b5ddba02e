// adgap eval-scenes: localisation and reading measured on generated scenes, per map mode.
#include <cstdio>
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/eval/loc_bench.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/report/bench_report.h"
#include "adgap/report/render.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_eval_scenes(int argc, char** argv) {
  MapOptions o;
  o.out = "docs/results";
  // The plain single-scale chain of the README's scene table: the paper's threshold, the
  // MNIST classifier's confidence bar, no pyramid.
  o.lib.k = 2.0;
  o.lib.min_score = 0.9;
  o.lib.scales = {1.0};
  std::string modes = "paper,pooled,dense", data_dir = kDefaultDataDir, name = "scenes";
  int64_t count = 100, first_seed = 1000000, save = 6;
  SceneConfig sc;
  int64_t min_h = sc.min_digit_height, max_h = sc.max_digit_height;
  Args args("eval-scenes",
            "Generate scenes of MNIST test digits on photos (seeded, reproducible) and measure\n"
            "detection precision, recall, F1 at IoU >= 0.5 and reading accuracy per map mode.\n"
            "Writes <out>/<name>.json and <name>.md, and example images <name>-<mode>-<i>.png.");
  o.add_to(args, /*detection=*/true);
  args.text("modes", &modes, "LIST", "comma-separated map modes to compare");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.integer("count", &count, 1, 100000, "scenes");
  args.integer("seed", &first_seed, 0, INT64_MAX, "seed of the first scene (scene i: seed + i)");
  args.integer("min-height", &min_h, 4, 1000, "px: smallest digit height");
  args.integer("max-height", &max_h, 4, 1000, "px: largest digit height");
  args.integer("save", &save, 0, 1000, "example scenes to save as images per mode");
  args.text("name", &name, "NAME", "base name of the result files");
  if (!args.parse(argc, argv, 2)) return 0;
  sc.min_digit_height = static_cast<int>(min_h);
  sc.max_digit_height = static_cast<int>(max_h);
  std::vector<MapMode> mode_list;
  for (const std::string& m : split_list(modes)) {
    try {
      mode_list.push_back(parse_map_mode(m));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--modes: ") + e.what());
    }
  }
  if (mode_list.empty()) throw UsageError("--modes: no mode given");
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  const Dataset digits = load_split(data_dir, "test", det.model.meta.num_classes);
  const std::vector<Scene> scenes =
      make_scenes(digits, load_backgrounds(default_background_paths()),
                  static_cast<uint64_t>(first_seed), count, sc);
  const std::vector<ModeResult> rows = evaluate_map_modes(
      det, scenes, mode_list, [&](MapMode m, size_t i, const std::vector<Detection>& dets) {
        if (static_cast<int64_t>(i) >= save) return;
        write_png_atomic(o.out + "/" + name + "-" + to_string(m) + "-" + std::to_string(i) + ".png",
                         draw_detections(scenes[i].image, dets));
      });
  const SceneEvalInfo info{
      o.model,        first_seed,      {sc.min_digit_height, sc.max_digit_height},
      o.lib.polarity, o.lib.threshold, o.lib.k,
      o.lib.min_score};
  const std::string md = scene_eval_markdown(rows, scenes, info);
  atomic_write_text(o.out + "/" + name + ".json",
                    scene_eval_json(rows, scenes, info).dump(2) + "\n");
  atomic_write_text(o.out + "/" + name + ".md", md);
  std::cout << md << "wrote " << o.out << "/" << name << ".{json,md}\n";
  return 0;
}

}  // namespace adgap::cli
