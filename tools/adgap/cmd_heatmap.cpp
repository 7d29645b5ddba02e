// adgap heatmap: AdGAP maps (paper Eq. 2) of images of any size, overlays and masks.
#include <iostream>

#include "adgap/detect/detector.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_heatmap(int argc, char** argv) {
  MapOptions o;
  o.lib.k = ThresholdConfig{}.k;  // masks at the paper's mean + 2 std
  bool raw = false;
  std::vector<std::string> images;
  Args args("heatmap",
            "Compute the AdGAP heatmap H = sum_i W_i F_i of each image at full resolution and\n"
            "write <out>/<name>.overlay.png (colormap over the photo) and <name>.mask.png\n"
            "(thresholded); with --raw also <name>.heat16.png (16-bit, exactly the input size).");
  o.add_to(args, /*detection=*/false);
  args.flag("raw", &raw, "also write the normalised map as a 16-bit grayscale PNG");
  args.positionals(&images, "IMAGE", 1);
  if (!args.parse(argc, argv, 2)) return 0;
  const Localizer loc = o.load();
  const Detector& d = loc.detector();
  for (const std::string& path : images) load_bgr(path);  // all readable before any output
  for (const std::string& path : images) {
    const cv::Mat bgr = load_bgr(path);
    const cv::Mat gray = to_gray(bgr);
    const cv::Mat h = d.map(gray);
    const double t = threshold_value(h, d.cfg.threshold);
    write_png_atomic(output_path(o.out, path, ".overlay.png"), overlay_heatmap(bgr, h));
    write_png_atomic(output_path(o.out, path, ".mask.png"), threshold_mask(h, t));
    if (raw) write_png_atomic(output_path(o.out, path, ".heat16.png"), to_u16(h));
    std::cout << path << ": " << bgr.cols << "x" << bgr.rows << ", " << o.lib.method << ", mode "
              << o.lib.mode << ", polarity "
              << to_string(resolve_polarity(gray, d.cfg.heatmap.polarity)) << ", threshold " << t
              << " -> " << output_path(o.out, path, ".*.png") << "\n";
  }
  return 0;
}

}  // namespace adgap::cli
