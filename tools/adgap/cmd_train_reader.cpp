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

namespace {

LeNetWidths parse_widths(const std::string& flag, const std::string& text) {
  std::vector<int64_t> w;
  for (const std::string& part : split_list(text)) {
    char* end = nullptr;
    const long long v = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v < 1 || v > 1024) {
      throw UsageError(flag + ": '" + text + "' is not four numbers from 1 to 1024");
    }
    w.push_back(v);
  }
  if (w.size() != 4) throw UsageError(flag + ": '" + text + "' is not four numbers");
  return {w[0], w[1], w[2], w[3]};
}

}  // namespace

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
            "their ground truth. Writes <out>/model.safetensors (default: reader/ beside the model).");
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
  int64_t first_scene = -1;
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
               "regions: index of the first v2 training scene to mine (default 0)");
  bool verifier_only = false;
  std::string verifier_widths = "32,64,256,128";
  args.flag("verifier", &rc.verifier,
            "regions: then train a verifier into <reader-out>/verifier on the crops the new "
            "reader does not reject, mined on further v2 training scenes");
  args.flag("verifier-only", &verifier_only,
            "regions: train only the verifier, for the reader already in --reader-out (and "
            "its first reader), mining from --first-scene (default 3000: after the scenes of "
            "--rounds 2)");
  args.integer("verifier-scenes", &rc.verifier_scenes, 1, 1000000,
               "regions: v2 training scenes the verifier mines");
  args.integer("verifier-epochs", &rc.verifier_epochs, 1, 1000, "regions: verifier training epochs");
  args.text("verifier-widths", &verifier_widths, "C1,C2,F1,F2", "the verifier's layer widths");
  bool letters_only = false;
  args.flag("letters", &rc.letters,
            "regions: then train a letter reader (a digit, a letter, neither) into "
            "<reader-out>/letters, on v2 training scenes with words of the whole alphabet");
  args.flag("letters-only", &letters_only,
            "regions: train only the letter reader, beside the reader in --reader-out, mining "
            "from --first-scene (default 4500: after the reader's and the verifier's scenes)");
  args.integer("letter-scenes", &rc.letter_scenes, 1, 1000000,
               "regions: v2 training scenes the letter reader mines");
  args.integer("letter-epochs", &rc.letter_epochs, 1, 1000, "regions: letter reader training epochs");
  std::string letter_widths = "6,16,120,84";
  args.text("letter-widths", &letter_widths, "C1,C2,F1,F2", "the letter reader's layer widths");
  args.integer("seed", &seed, 0, INT64_MAX, "reader initialisation and shuffling seed");
  if (!args.parse(argc, argv, 2)) return 0;
  rc.first_region_scene = std::max<int64_t>(first_scene, 0);
  rc.use_mined = split_list(mined);
  rc.region_widths = parse_widths("--widths", widths);
  rc.verifier_widths = parse_widths("--verifier-widths", verifier_widths);
  rc.letter_widths = parse_widths("--letter-widths", letter_widths);
  rc.train.seed = static_cast<uint64_t>(seed);
  if (o.lib.proposals != "map" && o.lib.proposals != "regions") {
    throw UsageError("--proposals: '" + o.lib.proposals + "' is neither 'map' nor 'regions'");
  }
  // The first reader was mined on pooled maps: --proposals map keeps that unless --mode says.
  if (o.lib.proposals == "map" && o.lib.mode == Options{}.mode) o.lib.mode = "pooled";
  if (o.model.empty()) {
    throw UsageError("--model FILE is needed: the reader is trained for that model and written "
                     "beside it (adgap's own models are remade by scripts/train_models.sh)");
  }
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  rc.train.out_dir = out_dir.empty()
                         ? (std::filesystem::path(o.model).parent_path() / "reader").string()
                         : out_dir;
  const Dataset mnist = load_split(data_dir, "train", det.model.meta.num_classes);
  const MapFunction map_of = [&](const cv::Mat& g) { return det.map(g); };
  if (letters_only) {
    if (det.cfg.proposals != ProposalKind::kRegions) {
      throw UsageError("--letters-only: a letter reader reads region proposals (--proposals regions)");
    }
    if (first_scene >= 0) rc.letter_first_scene = first_scene;
    std::cout << "mining " << rc.letter_scenes << " v2 training scenes from "
              << rc.letter_first_scene << " for the letter reader" << std::endl;
    train_letter_reader(map_of, mnist, det.cfg, rc, &std::cerr, write_training_report);
    std::cout << "wrote " << model_path(letter_reader_dir(rc.train.out_dir))
              << " (a digit, a letter, neither)\n";
    return 0;
  }
  if (verifier_only) {
    if (det.cfg.proposals != ProposalKind::kRegions) {
      throw UsageError("--verifier-only: a verifier reads region proposals (--proposals regions)");
    }
    const int64_t classes = det.model.meta.num_classes;
    const std::string reader_file = model_path(rc.train.out_dir);
    const LeNet reader = load_reader(reader_file, classes).net;
    const std::string first_file = first_reader_beside(reader_file);
    const LeNet first = std::filesystem::exists(first_file) ? load_reader(first_file, classes).net
                                                            : LeNet{nullptr};
    rc.first_region_scene = first_scene >= 0 ? first_scene : 2 * rc.region_scenes;
    rc.region_scenes = 0;
    std::cout << "mining " << rc.verifier_scenes << " v2 training scenes from "
              << rc.first_region_scene << " for the verifier of " << reader_file << std::endl;
    const TrainResult r = train_verifier(map_of, first, reader, mnist, det.cfg, rc, &std::cerr,
                                         write_training_report);
    std::cout << "wrote " << model_path(verifier_dir(rc.train.out_dir)) << " ("
              << r.meta.num_classes << " classes, last = not a digit)\n";
    return 0;
  }
  std::cout << "mining candidates on "
            << (det.cfg.proposals == ProposalKind::kRegions ? rc.region_scenes : rc.scenes)
            << " training scenes" << std::endl;
  LeNet judge = det.model.net;
  if (!judge_path.empty()) judge = load_reader(judge_path, det.model.meta.num_classes).net;
  const TrainResult r =
      train_reader(map_of, judge, mnist, det.cfg, rc, &std::cerr, write_training_report);
  std::cout << "wrote " << model_path(rc.train.out_dir) << " (" << r.meta.num_classes
            << " classes, last = not a digit)\n";
  if (rc.verifier) std::cout << "wrote " << model_path(verifier_dir(rc.train.out_dir)) << "\n";
  if (rc.letters) std::cout << "wrote " << model_path(letter_reader_dir(rc.train.out_dir)) << "\n";
  return 0;
}

}  // namespace adgap::cli
