// adgap train-reader: the 11-class reader ("not a digit" added) from MNIST plus candidates
// mined from the detector on generated training scenes.
#include <filesystem>
#include <iostream>

#include "adgap/methods/methods.h"
#include "adgap/scene/scene.h"
#include "adgap/train/reader.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_train_reader(int argc, char** argv) {
  MapOptions o;
  o.mode = "pooled";  // the mode the benchmarked reader was mined with
  ReaderConfig rc;
  rc.train.epochs = 8;  // chosen on the tune split with 6000 scenes (README)
  rc.train.batch_size = 300;
  std::string data_dir = kDefaultDataDir, out_dir;
  int64_t seed = 0;
  Args args("train-reader",
            "Train the reader: the Table 1 network with an extra 'not a digit' class, on MNIST\n"
            "training digits plus the candidates the AdGAP detector proposes on generated scenes\n"
            "of training digits over training photos (never the benchmark's), labelled by\n"
            "their ground truth. Writes <out>/model.pt (default: reader/ beside the model).");
  o.add_to(args);
  args.text("data", &data_dir, "DIR", "MNIST directory");
  args.text("reader-out", &out_dir, "DIR", "output directory of the reader");
  args.integer("scenes", &rc.scenes, 1, 1000000, "training scenes to mine");
  args.real("mine-k", &rc.k, -10, 10, "mining threshold mean + k std");
  args.integer("epochs", &rc.train.epochs, 1, 1000, "reader training epochs");
  args.integer("seed", &seed, 0, INT64_MAX, "reader initialisation and shuffling seed");
  if (!args.parse(argc, argv, 2)) return 0;
  rc.train.seed = static_cast<uint64_t>(seed);
  MapSetup s = resolve(o);
  if (out_dir.empty()) out_dir = (std::filesystem::path(o.model).parent_path() / "reader").string();
  rc.train.out_dir = out_dir;
  const FilterImportance& imp = s.importance;
  const Dataset mnist = load_split(data_dir, "train", s.model.meta.num_classes);
  const std::vector<cv::Mat> bgs = load_backgrounds(training_background_paths());
  std::cout << "mining candidates on " << rc.scenes << " training scenes" << std::endl;
  const Dataset mined = mine_candidates(
      [&](const cv::Mat& g) {
        return method_map(Method::kAdgap, s.model.net, imp, g, s.cfg.heatmap);
      },
      mnist, bgs, s.cfg, rc);
  const int64_t background = mnist.num_classes;
  const int64_t neg = mined.labels.eq(background).sum().item<int64_t>();
  std::cout << "mined " << mined.size() << " candidates: " << mined.size() - neg << " digits, "
            << neg << " not digits" << std::endl;
  TrainResult r = train_reader(mnist, mined, rc, &std::cerr);
  std::cout << "wrote " << model_path(out_dir) << " (" << r.meta.num_classes
            << " classes, last = not a digit)\n";
  return 0;
}

}  // namespace adgap::cli
