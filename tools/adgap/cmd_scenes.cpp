// adgap scenes: generated scenes as files, for batches, other tools and benchmarks.
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/scene/scene.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_scenes(int argc, char** argv) {
  std::string data_dir = kDefaultDataDir, out = "out/scenes", kind = "benchmark";
  int64_t count = 10, first_seed = 3000000;
  Args args("scenes",
            "Write generated scenes (MNIST test digits on opencv-doc photos, reproducible from\n"
            "their seeds) as <out>/scene-<seed>.png, and their ground truth (boxes and labels)\n"
            "as <out>/truth.json.");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.text("out", &out, "DIR", "output directory");
  args.text("kind", &kind, "K",
            "benchmark (400x300, 0-4 digits 14-120 px, contrast, blur, noise) or simple "
            "(320x240, 1-4 digits 20-40 px)");
  args.integer("count", &count, 1, 1000000, "scenes");
  args.integer("seed", &first_seed, 0, INT64_MAX, "seed of the first scene (scene i: seed + i)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (kind != "benchmark" && kind != "simple") {
    throw UsageError("--kind: '" + kind + "' is neither 'benchmark' nor 'simple'");
  }
  const SceneConfig cfg = kind == "benchmark" ? benchmark_scene_config() : SceneConfig{};
  export_scenes(out, load_split(data_dir, "test"), load_backgrounds(default_background_paths()),
                static_cast<uint64_t>(first_seed), count, cfg);
  std::cout << "wrote " << count << " scenes and truth.json to " << out << "\n";
  return 0;
}

}  // namespace adgap::cli
