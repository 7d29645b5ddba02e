// adgap demo: the main job on defaults - train (or reuse), evaluate, filter weights, the
// reader, heatmaps and detections for real photos and generated scenes, all gathered in
// <out>/index.html.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "adgap/detect/detector.h"
#include "adgap/detect/reader.h"
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
constexpr int kDemoScenes = 4;            // generated scenes shown as images
constexpr int64_t kEvalScenes = 100;      // generated scenes measured per map mode
constexpr uint64_t kSceneSeed = 1000000;  // same first seed as `adgap eval-scenes`

// The page's entry for one image: the detector's map cut at the paper's mean + 2 std, and its
// detections.
DemoImage show(const std::string& out, const std::string& stem, const cv::Mat& bgr,
               const Detector& det) {
  const cv::Mat gray = to_gray(bgr);
  const cv::Mat h = det.map(gray);
  return write_demo_image(out, stem, bgr, h, threshold_value(h, ThresholdConfig{}),
                          resolve_polarity(gray, det.cfg.heatmap.polarity), det.detect(gray));
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
            "importance, train the reader, compute heatmaps and detections for photos with\n"
            "digits and text and for generated scenes, and gather everything in\n"
            "<out>/index.html.");
  args.text("data", &data_dir, "DIR", "directory with the MNIST IDX files");
  args.text("out", &cfg.out_dir, "DIR", "output directory");
  args.integer("epochs", &cfg.epochs, 1, 1000, "training epochs");
  args.integer("seed", &seed, 0, INT64_MAX, "initialisation and shuffling seed");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.flag("fresh", &fresh, "retrain from scratch even if --out holds a model");
  if (!args.parse(argc, argv, 2)) return 0;
  cfg.seed = static_cast<uint64_t>(seed);
  cfg.resume = !fresh;  // a finished model is reused, an interrupted run continues
  const std::string out = cfg.out_dir;
  // Check the photos first: a missing package should not surface after training.
  std::vector<std::string> photos;
  for (const char* p : kPhotos) photos.push_back(std::string(kPhotoDir) + p);
  for (const std::string& p : photos) load_bgr(p);
  const std::vector<cv::Mat> backgrounds = load_backgrounds(default_background_paths());

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

  // The reader: digits plus "not a digit", from crops the detector proposes on training scenes.
  const std::string model_file = model_path(out);
  const std::string reader_dir = out + "/reader";
  if (fresh || !std::filesystem::exists(model_path(reader_dir))) {  // a new model, a new reader
    ReaderConfig rc;
    std::cout << "== training the reader (mining " << rc.scenes << " generated training scenes)"
              << std::endl;
    rc.train.out_dir = reader_dir;
    rc.train.progress = false;
    const Detector miner = make_detector(model_file, reader_mining_options());
    train_reader([&](const cv::Mat& g) { return miner.map(g); }, data.train, miner.cfg, rc,
                 &std::cerr, write_training_report);
  }

  std::cout << "== 4/5 heatmaps and detections" << std::endl;
  const Localizer loc = Localizer::load(model_file);  // the library's defaults, reader beside
  const Detector& det = loc.detector();
  DemoReport rep;
  for (const std::string& p : photos) {
    const std::string stem = std::filesystem::path(p).stem().string();
    rep.images.push_back(show(out, stem, load_bgr(p), det));
    std::cout << "  " << p << ": " << rep.images.back().note << std::endl;
  }
  const Dataset& digits = data.test;  // scenes use test digits only
  const std::vector<Scene> scenes =
      make_scenes(digits, backgrounds, kSceneSeed, kEvalScenes, SceneConfig{});
  for (int i = 0; i < kDemoScenes; ++i) {
    rep.images.push_back(
        show(out, "scene-" + std::to_string(kSceneSeed + i), scenes[i].image, det));
    std::string truth = "truth:";
    for (const DigitTruth& d : scenes[i].digits) truth += " " + std::to_string(d.label);
    rep.images.back().note += " (" + truth + ")";
  }

  std::cout << "== 5/5 measuring " << kEvalScenes << " generated scenes per map mode" << std::endl;
  rep.scene_table_md = map_modes_markdown(
      evaluate_map_modes(det, scenes, {MapMode::kPaper, MapMode::kPooled, MapMode::kDense}));
  std::cout << rep.scene_table_md;
  rep.scene_caption = std::to_string(kEvalScenes) +
                      " scenes of MNIST test digits (20-40 px high) on opencv-doc photos, seeds " +
                      std::to_string(kSceneSeed) +
                      " on; a detection counts at IoU >= 0.5, reading when its label is right too.";
  char line[160];
  std::snprintf(line, sizeof line, "LeNet (paper Table 1) on %s, %lld epochs, seed %llu.",
                r.meta.dataset.c_str(), static_cast<long long>(r.meta.epochs),
                static_cast<unsigned long long>(r.meta.seed));
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
