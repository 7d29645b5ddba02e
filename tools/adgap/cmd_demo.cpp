// adgap demo: the main job on defaults - the paper's pipeline (train or reuse the network,
// evaluate it, filter weights, its maps) beside adgap's own detection chain (models/: the
// reader, first reader, verifier and letter reader) on real photos and generated scenes, all
// gathered in <out>/index.html. --train-readers trains the chain's readers for this run's
// network instead (the recipe of models/, about an hour on two cores).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "adgap/detect/detector.h"
#include "adgap/detect/reader.h"
#include "adgap/eval/bench_v2.h"
#include "adgap/eval/evaluate.h"
#include "adgap/eval/loc_bench.h"
#include "adgap/importance/importance.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "adgap/methods/cam.h"
#include "adgap/report/bench_report.h"
#include "adgap/report/demo_report.h"
#include "adgap/report/render.h"
#include "adgap/report/training_report.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

namespace {

constexpr const char* kPhotoDir = "/usr/share/doc/opencv-doc/examples/data/";
// Photos with digits or text from Debian's opencv-doc.
const char* const kPhotos[] = {"sudoku.png",     "licenseplate_motion.jpg",
                               "imageTextN.png", "text_motion.jpg",
                               "notes.png",      "digits.png"};
constexpr int kDemoScenes = 4;        // benchmark v2 scenes shown as images
constexpr int64_t kEvalScenes = 40;   // benchmark v2 eval-split scenes measured

// The page's entry for one image: `paper`'s map (this run's network) cut at the paper's
// mean + 2 std, and the digits `chain` finds and reads.
DemoImage show(const std::string& out, const std::string& stem, const cv::Mat& bgr,
               const Detector& paper, const Detector& chain) {
  const cv::Mat gray = to_gray(bgr);
  const cv::Mat h = paper.map(gray);
  return write_demo_image(out, stem, bgr, h, threshold_value(h, ThresholdConfig{}),
                          resolve_polarity(gray, paper.cfg.heatmap.polarity), chain.detect(gray));
}

}  // namespace

int cmd_demo(int argc, char** argv) {
  TrainConfig cfg;
  cfg.out_dir = "runs/demo";
  std::string data_dir = kDefaultDataDir;
  int64_t threads = 0, seed = 0;
  bool fresh = false;
  Args args("demo",
            "Run the whole pipeline on defaults: train the paper's network on MNIST (reusing a\n"
            "finished model in --out, resuming an interrupted one), evaluate it, measure filter\n"
            "importance, compute its heatmaps of photos with digits and text and of generated\n"
            "scenes, beside the digits adgap's own detection chain (models/) finds and reads\n"
            "in them, measure that chain on 40 benchmark scenes, and gather everything in\n"
            "<out>/index.html.");
  args.text("data", &data_dir, "DIR", "directory with the MNIST IDX files");
  args.text("out", &cfg.out_dir, "DIR", "output directory");
  args.integer("epochs", &cfg.epochs, 1, 1000, "training epochs");
  args.integer("seed", &seed, 0, INT64_MAX, "initialisation and shuffling seed");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.flag("fresh", &fresh, "retrain from scratch even if --out holds a model");
  bool train_readers = false;
  args.flag("train-readers", &train_readers,
            "also train the detection chain's readers for this run's network (the recipe of "
            "models/: about an hour on two cores) and detect with them");
  if (!args.parse(argc, argv, 2)) return 0;
  cfg.seed = static_cast<uint64_t>(seed);
  cfg.resume = !fresh;  // a finished model is reused, an interrupted run continues
  const std::string out = cfg.out_dir;
  // Check the photos first: a missing package should not surface after training.
  std::vector<std::string> photos;
  for (const char* p : kPhotos) photos.push_back(std::string(kPhotoDir) + p);
  for (const std::string& p : photos) load_bgr(p);
  v2_background_paths(SceneSplit::kTrain);  // throw now when a photo package is missing
  v2_background_paths(SceneSplit::kEval);
  v2_fonts(SceneSplit::kEval);

  // The detection chain: adgap's own (found now: a missing one should not surface after
  // training), or this run's with --train-readers.
  const std::string shipped = train_readers ? "" : find_model();
  std::cout << "== 1/5 data\n";
  const Splits data = load_splits(data_dir, /*limit_train=*/0);
  std::cout << "== 2/5 training (paper Table 1 network, Adam, batch 300)\n";
  TrainResult r = run_training(data, cfg, threads);
  const EvalResult ev = evaluate(r.net, data.test);
  std::cout << "test " << ev.to_text();
  atomic_write_text(out + "/eval.json", ev.to_json().dump(2) + "\n");

  std::cout << "== 3/5 filter importance (paper Eq. 1) over the training set" << std::endl;
  FilterImportance imp = compute_importance(r.net, data.train);
  train_cam(r.net, data.train, imp);
  save_importance(out + "/weights.json", imp);
  plot_bars(out + "/weights.png", imp.loss_rise, "Filter importance: NLL rise when blocked",
            "final filter", "mean NLL rise");

  const std::string model_file = model_path(out);
  const std::string reader_dir = out + "/reader";
  if (train_readers && (fresh || !std::filesystem::exists(model_path(letter_reader_dir(reader_dir))))) {
    // The readers learn from the proposals of this run's detector without a reader.
    const Detector miner = make_detector(model_file, reader_mining_options());
    ReaderConfig rc = ReaderConfig::shipped_recipe();
    std::cout << "== training the readers (models/' recipe: mining " << rc.region_scenes
              << " benchmark v2 training scenes a round, " << rc.rounds << " rounds, then the "
              << "verifier's and the letter reader's)" << std::endl;
    rc.train.out_dir = reader_dir;
    rc.train.progress = false;
    train_reader([&](const cv::Mat& g) { return miner.map(g); }, miner.model.net, data.train,
                 miner.cfg, rc, &std::cerr, write_training_report);
  }

  std::cout << "== 4/5 heatmaps and detections" << std::endl;
  // The paper's pipeline: this run's network, its filter weights and map, reading nothing.
  Options paper_options;
  paper_options.reader = "none";
  const Localizer paper = Localizer::load(model_file, paper_options);
  // The detection chain, with the library's defaults.
  const Localizer loc = Localizer::load(train_readers ? model_file : shipped);
  const Detector& det = loc.detector();
  std::cout << "  maps: " << model_file << "; digits: " << loc.model_path() << " and "
            << loc.reader_path() << std::endl;
  DemoReport rep;
  for (const std::string& p : photos) {
    const std::string stem = std::filesystem::path(p).stem().string();
    rep.images.push_back(show(out, stem, load_bgr(p), paper.detector(), det));
    std::cout << "  " << p << ": " << rep.images.back().note << std::endl;
  }
  const SceneGeneratorV2 gen(data.test, SceneSplit::kEval);  // test digits, eval photos
  const std::vector<SceneV2> scenes = gen.make_range(0, kEvalScenes);
  for (int i = 0; i < kDemoScenes; ++i) {
    rep.images.push_back(show(out, "scene-v2-eval-" + std::to_string(i), scenes[i].image,
                              paper.detector(), det));
    std::string truth = "truth:";
    for (const DigitTruthV2& d : scenes[i].digits) truth += " " + std::to_string(d.truth.label);
    for (const NumberTruth& n : scenes[i].numbers) truth += " [" + n.text + "]";
    rep.images.back().note += " (" + truth + ")";
  }

  std::cout << "== 5/5 measuring " << kEvalScenes << " benchmark v2 scenes" << std::endl;
  const V2Counts c = evaluate_v2(scenes, [&](const cv::Mat& g) { return detect_v2(det, g); });
  rep.scene_table_md = conditions_markdown(c);
  char summary[400];
  std::snprintf(summary, sizeof summary,
                "%lld scenes of benchmark v2's eval split (%lld digits, printed and handwritten, "
                "alone and in numbers): candidate recall %.3f, precision %.3f, recall %.3f, "
                "reading F1 %.3f, numbers read exactly %lld of %lld; a detection counts at IoU "
                ">= 0.5. Recall by condition:",
                static_cast<long long>(c.scenes), static_cast<long long>(c.det.truths),
                c.candidate_recall(), c.det.precision(), c.det.recall(), c.det.reading_f1(),
                static_cast<long long>(c.numbers_exact), static_cast<long long>(c.numbers));
  rep.scene_caption = summary;
  std::cout << summary << "\n" << rep.scene_table_md;
  char line[1200];
  std::snprintf(line, sizeof line,
                "LeNet (paper Table 1) on %s, %lld epochs, seed %llu: the maps are this run's. "
                "The digits are read by the detection chain of %s (reader %s).",
                r.meta.dataset.c_str(), static_cast<long long>(r.meta.epochs),
                static_cast<unsigned long long>(r.meta.seed), loc.model_path().c_str(),
                loc.reader_path().c_str());
  rep.model_line = line;
  rep.test_accuracy = ev.accuracy;
  rep.class_accuracy = ev.class_accuracy;
  rep.loss_png = "loss.png";
  rep.weights_png = "weights.png";
  rep.map_mode = det.options.mode;
  rep.detect_mode = det.options.mode;
  write_demo_html(out + "/index.html", rep);
  std::printf("\ndemo done: test accuracy %.2f %%\n", 100 * ev.accuracy);
  std::cout << "  open " << out << "/index.html (model, weights, figures and images beside it)\n";
  return 0;
}

}  // namespace adgap::cli
