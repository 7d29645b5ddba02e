// adgap train-reader: the 11-class reader ("not a digit" added) from MNIST plus candidates
// mined from the detector on generated training scenes (src/detect/reader.h).
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "adgap/detect/detector.h"
#include "adgap/detect/reader.h"
#include "adgap/report/training_report.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_train_reader(int argc, char** argv) {
  MapOptions o;
  o.lib = reader_mining_options();
  ReaderConfig rc;
  std::string data_dir = kDefaultDataDir, out_dir;
  int64_t seed = 0;
  std::string widths = "6,16,120,84";
  Args args("train-reader",
            "Train the reader: the Table 1 network with an extra 'not a digit' class, on MNIST\n"
            "training digits plus the candidates the AdGAP detector proposes on generated scenes\n"
            "of training digits over training photos (never the benchmark's), labelled by\n"
            "their ground truth. Writes <out>/model.pt (default: reader/ beside the model).");
  o.add_to(args, /*detection=*/false);
  args.text("data", &data_dir, "DIR", "MNIST directory");
  args.text("reader-out", &out_dir, "DIR", "output directory of the reader");
  args.text("proposals", &o.lib.proposals, "P",
            "map (mine the map's hotspots on v1 training scenes, read as MNIST-style crops) or "
            "regions (hotspots and stroke regions on benchmark v2's train split, read with "
            "their surroundings)");
  args.integer("scenes", &rc.scenes, 1, 1000000, "map: training scenes to mine");
  args.integer("region-scenes", &rc.region_scenes, 0, 1000000,
               "regions: v2 training scenes to mine (0: none, train on --mined crops)");
  args.integer("negatives", &rc.negatives_per_scene, 0, 100000,
               "regions: 'not a digit' crops kept per scene");
  args.real("mine-k", &rc.k, -10, 10, "mining threshold mean + k std");
  args.integer("epochs", &rc.train.epochs, 1, 1000, "map: reader training epochs");
  args.integer("region-epochs", &rc.region_epochs, 1, 1000, "regions: reader training epochs");
  args.text("widths", &widths, "C1,C2,F1,F2",
            "regions: the reader's layer widths (Table 1: 6,16,120,84; wider ones make a "
            "'lenet-wide' model)");
  std::string mined, judge_path;
  int64_t first_scene = 0;
  args.real("distractors", &rc.distractor_fraction, 0, 1,
            "regions: fraction of the mined scenes' items that are letter strings");
  args.flag("first-stage", &rc.first_stage,
            "regions: also train a Table 1 reader on the same crops into <reader-out>/first, "
            "which detection runs first to drop the obvious non-digits");
  args.text("save-mined", &rc.save_mined, "DIR", "also write the mined crops there (IDX files)");
  args.text("mined", &mined, "DIR[,DIR...]",
            "add the crops saved there by --save-mined to the freshly mined ones");
  args.text("judge", &judge_path, "FILE",
            "regions: a reader whose most digit-like non-digits are kept as negatives (a second "
            "round of mining; default: the model's most confident)");
  args.integer("rounds", &rc.rounds, 1, 2,
               "regions: 2 mines as many scenes again, the first round's reader picking the "
               "negatives, and trains on both");
  args.integer("first-scene", &first_scene, 0, 100000000,
               "regions: index of the first v2 training scene to mine");
  args.integer("seed", &seed, 0, INT64_MAX, "reader initialisation and shuffling seed");
  if (!args.parse(argc, argv, 2)) return 0;
  rc.first_region_scene = first_scene;
  rc.use_mined = split_list(mined);
  {
    std::vector<int64_t> w;
    for (const std::string& part : split_list(widths)) {
      char* end = nullptr;
      const long long v = std::strtoll(part.c_str(), &end, 10);
      if (*end != '\0' || v < 1 || v > 1024) {
        throw UsageError("--widths: '" + widths + "' is not four numbers from 1 to 1024");
      }
      w.push_back(v);
    }
    if (w.size() != 4) throw UsageError("--widths: '" + widths + "' is not four numbers");
    rc.region_widths = {w[0], w[1], w[2], w[3]};
  }
  rc.train.seed = static_cast<uint64_t>(seed);
  if (o.lib.proposals != "map" && o.lib.proposals != "regions") {
    throw UsageError("--proposals: '" + o.lib.proposals + "' is neither 'map' nor 'regions'");
  }
  // The first reader was mined on pooled maps: --proposals map keeps that unless --mode says.
  if (o.lib.proposals == "map" && o.lib.mode == Options{}.mode) o.lib.mode = "pooled";
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  rc.train.out_dir = out_dir.empty()
                         ? (std::filesystem::path(o.model).parent_path() / "reader").string()
                         : out_dir;
  const Dataset mnist = load_split(data_dir, "train", det.model.meta.num_classes);
  std::cout << "mining candidates on "
            << (det.cfg.proposals == ProposalKind::kRegions ? rc.region_scenes : rc.scenes)
            << " training scenes" << std::endl;
  LeNet judge = det.model.net;
  if (!judge_path.empty()) judge = load_reader(judge_path, det.model.meta.num_classes).net;
  const TrainResult r = train_reader([&](const cv::Mat& g) { return det.map(g); }, judge, mnist,
                                     det.cfg, rc, &std::cerr, write_training_report);
  std::cout << "wrote " << model_path(rc.train.out_dir) << " (" << r.meta.num_classes
            << " classes, last = not a digit)\n";
  return 0;
}

}  // namespace adgap::cli
