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
  o.mode = "paper";  // with the reader and pyramid: best F1 on the benchmark's tune split (README)
  o.k = 3.0;         // threshold mean + 3 std, tuned there too
  std::string json_path, scales = "1,0.5,0.25";
  double min_score = 0.8;
  int64_t merge_gap = 3, min_size = 8;
  std::vector<std::string> images;
  Args args("detect",
            "Find and read digits: threshold the AdGAP map, group hotspots into candidates, crop\n"
            "and normalise each like an MNIST digit, classify it (with the reader when there is\n"
            "one), keep confident ones; on an image pyramid, merged by NMS. Writes\n"
            "<out>/<name>.detect.png and the JSON schema of README.md to --json.");
  o.add_to(args);
  args.text("json", &json_path, "FILE", "detections as JSON (default: <out>/detections.json)");
  args.real("min-score", &min_score, 0, 1, "minimum softmax probability to keep a detection");
  args.integer("merge-gap", &merge_gap, 0, 1000, "px: hotspot fragments closer than this merge");
  args.integer("min-size", &min_size, 1, 100000, "px: smaller candidates are dropped");
  args.text("scales", &scales, "LIST", "image pyramid scales, e.g. 1 for a single scale");
  args.positionals(&images, "IMAGE", 1);
  if (!args.parse(argc, argv, 2)) return 0;
  const std::vector<double> pyramid = parse_scales(scales);
  MapSetup s = resolve(o);
  s.cfg.min_score = min_score;
  s.cfg.merge_gap = static_cast<int>(merge_gap);
  s.cfg.min_size = static_cast<int>(min_size);
  if (json_path.empty()) json_path = o.out + "/detections.json";
  if (images.size() > 1) check_images(images);

  if (!s.reader_path.empty()) std::cout << "reader: " << s.reader_path << "\n";
  nlohmann::json doc = {{"model", o.model}, {"images", nlohmann::json::array()}};
  for (const std::string& path : images) {
    const cv::Mat bgr = load_bgr(path);
    const std::vector<Detection> dets = detect_multiscale(
        s.model.net, to_gray(bgr), [&](const cv::Mat& g) { return s.map(g); }, s.cfg, pyramid);
    write_png_atomic(output_path(o.out, path, ".detect.png"), draw_detections(bgr, dets));
    doc["images"].push_back(detections_json(path, bgr.size(), dets));
    std::cout << path << ": " << dets.size() << " digits:";
    for (const Detection& det : dets) std::cout << " " << det.label;
    std::cout << "\n";
  }
  atomic_write_text(json_path, doc.dump(2) + "\n");
  std::cout << "wrote " << json_path << "\n";
  return 0;
}

}  // namespace adgap::cli
