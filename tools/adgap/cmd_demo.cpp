// adgap demo: the main job on defaults - train (or reuse), evaluate, filter weights, the
// reader, heatmaps and detections for real photos and generated scenes, all gathered in
// <out>/index.html.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

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
constexpr int64_t kReaderScenes = 600;  // v2 training scenes mined for the reader (a quick
                                        //   one; adgap train-reader's default mines 1500)
constexpr int64_t kLetterScenes = 600;  // ... for the letter reader (train-reader's
constexpr int64_t kLetterEpochs = 8;    //   default: 1500 scenes, 6 epochs)

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
  v2_background_paths(SceneSplit::kTrain);  // throw now when a photo package is missing
  v2_background_paths(SceneSplit::kEval);
  v2_fonts(SceneSplit::kEval);

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
  // Both readers learn from the detector's proposals without a reader (made when first needed).
  std::optional<Detector> miner;
  const auto mining = [&]() -> const Detector& {
    if (!miner) miner = make_detector(model_file, reader_mining_options());
    return *miner;
  };
  const MapFunction mined_map = [&](const cv::Mat& g) { return mining().map(g); };
  // A new model, a new reader; a reader of the first kind (map hotspots only) is replaced.
  if (fresh || !std::filesystem::exists(model_path(reader_dir)) ||
      load_model(model_path(reader_dir)).meta.dataset != kRegionReaderData) {
    ReaderConfig rc;
    rc.region_scenes = kReaderScenes;
    std::cout << "== training the reader (mining " << rc.region_scenes
              << " benchmark v2 training scenes)" << std::endl;
    rc.train.out_dir = reader_dir;
    rc.train.progress = false;
    train_reader(mined_map, mining().model.net, data.train, mining().cfg, rc, &std::cerr,
                 write_training_report);
  }
  // The letter reader: tells the letters beside a number from digits (a quick one too).
  if (fresh || !std::filesystem::exists(model_path(letter_reader_dir(reader_dir)))) {
    ReaderConfig rc;
    rc.letter_scenes = kLetterScenes;
    rc.letter_epochs = kLetterEpochs;
    std::cout << "== training the letter reader (mining " << rc.letter_scenes
              << " benchmark v2 training scenes with words)" << std::endl;
    rc.train.out_dir = reader_dir;
    rc.train.progress = false;
    train_letter_reader(mined_map, data.train, mining().cfg, rc, &std::cerr,
                        write_training_report);
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
  const SceneGeneratorV2 gen(data.test, SceneSplit::kEval);  // test digits, eval photos
  const std::vector<SceneV2> scenes = gen.make_range(0, kEvalScenes);
  for (int i = 0; i < kDemoScenes; ++i) {
    rep.images.push_back(show(out, "scene-v2-eval-" + std::to_string(i), scenes[i].image, det));
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
