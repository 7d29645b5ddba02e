// adgap eval-v2: the detector on benchmark v2's scenes, with recall per condition.
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/detect/detector.h"
#include "adgap/eval/bench_v2.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_eval_v2(int argc, char** argv) {
  MapOptions o;
  std::string data_dir = kDefaultDataDir, name = "eval_v2", split = "tune";
  int64_t count = 100, first = 0, save = 0;
  Args args("eval-v2",
            "Measure the detector on benchmark v2's scenes (see `adgap scenes`): detection and\n"
            "reading at IoU >= 0.5, candidate recall, numbers read exactly, detections on letter\n"
            "strings, and recall per condition. Writes <out>/<name>.{md,json}.");
  o.add_to(args, /*detection=*/true);
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies handwriting)");
  args.text("split", &split, "S", "tune (for choosing settings) or eval (for reporting)");
  args.integer("count", &count, 1, 100000, "scenes");
  args.integer("first", &first, 0, 10000000, "index of the first scene in the split");
  args.integer("save", &save, 0, 1000, "scenes to save with their detections drawn");
  double text = 0;
  args.real("text", &text, 0, 1,
            "the text condition: this fraction of the items are letter strings from the whole "
            "alphabet, digit-like letters (O, I, l, S, B) too (0: the benchmark's own, a tenth, "
            "of letters unlike digits)");
  std::string misses, errors;
  args.text("misses", &misses, "FILE",
            "write a PNG of the digits no candidate covers (up to 100, each with its surroundings)");
  args.text("errors", &errors, "FILE",
            "write a PNG of the reader's errors (up to 100): false alarms (red box, the label "
            "given) and misread digits (yellow box, the label given)");
  args.text("name", &name, "NAME", "base name of the result files");
  if (!args.parse(argc, argv, 2)) return 0;
  if (split != "tune" && split != "eval") throw UsageError("--split: '" + split + "' is not tune or eval");
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  const Dataset digits = load_split(data_dir, "test", det.model.meta.num_classes);
  SceneV2Config scene_cfg;
  if (text > 0) {
    scene_cfg.distractor_fraction = text;
    scene_cfg.any_letter = true;
  }
  const SceneGeneratorV2 gen(digits, split == "eval" ? SceneSplit::kEval : SceneSplit::kTune,
                             scene_cfg);
  const std::vector<SceneV2> scenes = gen.make_range(first, count);
  // A box with its surroundings, 96x96, the box drawn; `caption` written in its corner.
  const auto tile_of = [](const cv::Mat& image, const cv::Rect& b, const cv::Scalar& colour,
                          const std::string& caption) {
    const int m = std::max(b.width, b.height);
    const cv::Rect r = cv::Rect(b.x - m, b.y - m, b.width + 2 * m, b.height + 2 * m) &
                       cv::Rect(0, 0, image.cols, image.rows);
    cv::Mat tile = image(r).clone();
    cv::rectangle(tile, b - r.tl(), colour, std::max(1, m / 40));
    cv::resize(tile, tile, cv::Size(96, 96), 0, 0, cv::INTER_AREA);
    if (!caption.empty()) {
      cv::rectangle(tile, cv::Rect(0, 0, 14, 16), cv::Scalar(0, 0, 0), cv::FILLED);
      cv::putText(tile, caption, cv::Point(2, 13), cv::FONT_HERSHEY_SIMPLEX, 0.45, colour, 1);
    }
    return tile;
  };
  std::vector<cv::Mat> missed, wrong;
  const V2Counts c = evaluate_v2(
      scenes,
      [&](const cv::Mat& gray) { return detect_v2(det, gray); },
      [&](size_t i, const V2Output& out) {
        const cv::Mat& image = scenes[i].image;
        for (const DigitTruthV2& t : scenes[i].digits) {
          if (misses.empty() || missed.size() >= 100) break;
          bool covered = false;
          for (const cv::Rect& c : out.candidates) covered |= iou(c, t.truth.box) >= 0.5;
          if (!covered) missed.push_back(tile_of(image, t.truth.box, cv::Scalar(0, 0, 255), ""));
        }
        if (!errors.empty()) {
          const std::vector<DigitTruth> truths = scenes[i].truths();
          const std::vector<int> match = assign_detections(out.detections, truths);
          std::vector<bool> used(out.detections.size(), false);
          for (size_t k = 0; k < truths.size(); ++k) {
            if (match[k] < 0) continue;
            used[match[k]] = true;
            const Detection& d = out.detections[match[k]];
            if (d.label != truths[k].label && wrong.size() < 100) {
              wrong.push_back(tile_of(image, d.box, cv::Scalar(0, 255, 255), std::to_string(d.label)));
            }
          }
          for (size_t k = 0; k < out.detections.size(); ++k) {
            if (used[k] || wrong.size() >= 100) continue;
            const Detection& d = out.detections[k];
            wrong.push_back(tile_of(image, d.box, cv::Scalar(0, 0, 255), std::to_string(d.label)));
          }
        }
        if (static_cast<int64_t>(i) >= save) return;
        write_png_atomic(o.out + "/" + name + "-" + std::to_string(i) + ".png",
                         draw_detections(image, out.detections));
      });
  const auto write_grid = [](const std::string& path, std::vector<cv::Mat> tiles) {
    if (path.empty() || tiles.empty()) return;
    while (tiles.size() % 10) tiles.push_back(cv::Mat::zeros(96, 96, CV_8UC3));
    std::vector<cv::Mat> rows;
    for (size_t r = 0; r < tiles.size(); r += 10) {
      cv::Mat row;
      cv::hconcat(std::vector<cv::Mat>(tiles.begin() + r, tiles.begin() + r + 10), row);
      rows.push_back(row);
    }
    cv::Mat grid;
    cv::vconcat(rows, grid);
    write_png_atomic(path, grid);
  };
  write_grid(misses, missed);
  write_grid(errors, wrong);
  char line[512];
  std::snprintf(line, sizeof line,
                "%lld scenes (%.1f MP), %lld digits: candidate recall %.3f, precision %.3f, "
                "recall %.3f, F1 %.3f, read %.3f, reading F1 %.3f; numbers exact %lld/%lld (%.3f); "
                "detections on letter strings %lld (%lld strings)\n",
                static_cast<long long>(c.scenes), c.megapixels,
                static_cast<long long>(c.det.truths), c.candidate_recall(), c.det.precision(),
                c.det.recall(), c.det.f1(), c.det.reading_accuracy(), c.det.reading_f1(),
                static_cast<long long>(c.numbers_exact), static_cast<long long>(c.numbers),
                c.numbers_exact_rate(), static_cast<long long>(c.distractor_hits),
                static_cast<long long>(c.distractors));
  const std::string md = std::string(line) + "\n" + conditions_markdown(c);
  atomic_write_text(o.out + "/" + name + ".md", md);
  atomic_write_text(o.out + "/" + name + ".json", c.to_json().dump(2) + "\n");
  std::cout << md << "wrote " << o.out << "/" << name << ".{md,json}\n";
  return 0;
}

}  // namespace adgap::cli
