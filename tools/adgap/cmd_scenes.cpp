// adgap scenes: generated scenes as files, for batches, other tools and benchmarks.
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
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
  const Dataset digits = load_split(data_dir, "test");
  const std::vector<cv::Mat> bgs = load_backgrounds(default_background_paths());
  nlohmann::json truth = nlohmann::json::array();
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t seed = static_cast<uint64_t>(first_seed + i);
    const Scene s = make_scene(digits, bgs, seed, cfg);
    const std::string name = "scene-" + std::to_string(seed) + ".png";
    write_png_atomic(out + "/" + name, s.image);
    nlohmann::json d = nlohmann::json::array();
    for (const DigitTruth& t : s.digits) {
      d.push_back({{"box", {t.box.x, t.box.y, t.box.width, t.box.height}}, {"label", t.label}});
    }
    truth.push_back({{"path", name}, {"seed", seed}, {"digits", d}});
  }
  atomic_write_text(out + "/truth.json", truth.dump(1) + "\n");
  std::cout << "wrote " << count << " scenes and truth.json to " << out << "\n";
  return 0;
}

}  // namespace adgap::cli
