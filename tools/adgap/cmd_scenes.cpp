// adgap scenes: generated scenes as files, for batches, other tools and benchmarks.
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/scene/scene.h"
#include "adgap/scene/scene_v2.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_scenes(int argc, char** argv) {
  std::string data_dir = kDefaultDataDir, out = "out/scenes", kind = "v2", split = "eval";
  int64_t count = 10, first_seed = -1;
  Args args("scenes",
            "Write generated scenes (reproducible from their seeds) and their ground truth as\n"
            "<out>/truth.json. v2 (the benchmark's): photos of several Debian packages, digits\n"
            "printed in fonts and handwritten (MNIST), alone and in numbers, both polarities,\n"
            "rotation, perspective, light, blur, noise, JPEG; files v2-<split>-<seed>.png, truth\n"
            "per digit (box, label, polarity, style, number) and per number (box, text).\n"
            "v1: MNIST test digits on opencv-doc photos, files scene-<seed>.png.");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.text("out", &out, "DIR", "output directory");
  args.text("kind", &kind, "K",
            "v2, v1 (400x300, 0-4 digits 14-120 px, contrast, blur, noise; also 'benchmark') "
            "or simple (320x240, 1-4 digits 20-40 px)");
  args.text("split", &split, "S",
            "v2: eval or tune (MNIST test digits), train (MNIST training digits)");
  args.integer("count", &count, 1, 1000000, "scenes");
  args.integer("seed", &first_seed, 0, INT64_MAX,
               "v1: seed of the first scene (default 3000000); v2: index of the first scene "
               "in the split (default 0)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (kind == "v2") {
    SceneSplit sp;
    try {
      sp = parse_scene_split(split);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--split: ") + e.what());
    }
    const Dataset digits = load_split(data_dir, sp == SceneSplit::kTrain ? "train" : "test");
    export_scenes_v2(out, SceneGeneratorV2(digits, sp), std::max<int64_t>(first_seed, 0), count);
    std::cout << "wrote " << count << " scenes and truth.json to " << out << "\n";
    return 0;
  }
  if (kind != "v1" && kind != "benchmark" && kind != "simple") {
    throw UsageError("--kind: '" + kind + "' is not one of v2, v1, simple");
  }
  const SceneConfig cfg = kind == "simple" ? SceneConfig{} : benchmark_scene_config();
  export_scenes(out, load_split(data_dir, "test"), load_backgrounds(default_background_paths()),
                static_cast<uint64_t>(first_seed < 0 ? 3000000 : first_seed), count, cfg);
  std::cout << "wrote " << count << " scenes and truth.json to " << out << "\n";
  return 0;
}

}  // namespace adgap::cli
