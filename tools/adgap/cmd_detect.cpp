// adgap detect: find digits through AdGAP hotspots and read them.
#include <iostream>

#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "adgap/io/render.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_detect(int argc, char** argv) {
  MapOptions o;
  o.mode = "pooled";  // best detection F1 of the three modes on generated scenes (README)
  std::string json_path;
  double min_score = 0.9;
  int64_t merge_gap = 3, min_size = 8;
  std::vector<std::string> images;
  Args args("detect",
            "Find and read digits: threshold the AdGAP map, group hotspots into candidates, crop\n"
            "and normalise each like an MNIST digit, classify it, keep confident ones. Writes\n"
            "<out>/<name>.detect.png and the JSON schema of README.md to --json.");
  o.add_to(args);
  args.text("json", &json_path, "FILE", "detections as JSON (default: <out>/detections.json)");
  args.real("min-score", &min_score, 0, 1, "minimum softmax probability to keep a detection");
  args.integer("merge-gap", &merge_gap, 0, 1000, "px: hotspot fragments closer than this merge");
  args.integer("min-size", &min_size, 1, 100000, "px: smaller candidates are dropped");
  args.positionals(&images, "IMAGE", 1);
  if (!args.parse(argc, argv, 2)) return 0;
  MapSetup s = resolve(o);
  s.cfg.min_score = min_score;
  s.cfg.merge_gap = static_cast<int>(merge_gap);
  s.cfg.min_size = static_cast<int>(min_size);
  if (json_path.empty()) json_path = o.out + "/detections.json";
  if (images.size() > 1) check_images(images);

  nlohmann::json doc = {{"model", o.model}, {"images", nlohmann::json::array()}};
  for (const std::string& path : images) {
    const cv::Mat bgr = load_bgr(path);
    const DetectOutput d = detect_digits(s.model.net, to_gray(bgr), s.weights, s.cfg);
    write_png_atomic(output_path(o.out, path, ".detect.png"), draw_detections(bgr, d.detections));
    doc["images"].push_back(detections_json(path, bgr.size(), d.detections));
    std::cout << path << ": " << d.candidates.size() << " candidates, " << d.detections.size()
              << " digits:";
    for (const Detection& det : d.detections) std::cout << " " << det.label;
    std::cout << "\n";
  }
  atomic_write_text(json_path, doc.dump(2) + "\n");
  std::cout << "wrote " << json_path << "\n";
  return 0;
}

}  // namespace adgap::cli
