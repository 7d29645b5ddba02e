// adgap heatmap: AdGAP maps (paper Eq. 2) of images of any size, overlays and masks.
#include <iostream>

#include "adgap/detect/detector.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"
#include "adgap/report/streamed_heatmap.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

// Images over this many pixels (a 128 MB float map) get their map and outputs band by band.
constexpr size_t kStreamPixels = size_t{1} << 25;

int cmd_heatmap(int argc, char** argv) {
  MapOptions o;
  o.lib.k = ThresholdConfig{}.k;  // masks at the paper's mean + 2 std
  bool raw = false;
  std::vector<std::string> images;
  Args args("heatmap",
            "Compute the AdGAP heatmap H = sum_i W_i F_i of each image at full resolution and\n"
            "write <out>/<name>.overlay.png (colormap over the photo) and <name>.mask.png\n"
            "(thresholded); with --raw also <name>.heat16.png (16-bit, exactly the input size).\n"
            "Images over 2^25 pixels are done band by band, never holding the whole float map\n"
            "(unless --raw or the Otsu threshold needs it).");
  o.add_to(args, /*detection=*/false);
  args.flag("raw", &raw, "also write the normalised map as a 16-bit grayscale PNG");
  args.positionals(&images, "IMAGE", 1);
  if (!args.parse(argc, argv, 2)) return 0;
  const Localizer loc = o.load();
  const Detector& d = loc.detector();
  for (const std::string& path : images) load_image(path);  // all readable before any output
  for (const std::string& path : images) {
    const cv::Mat photo = load_image(path);  // a gray file stays gray
    const cv::Mat gray = to_gray(photo);
    double t = 0;
    if (gray.total() > kStreamPixels && !raw && d.method == Method::kAdgap &&
        d.cfg.threshold.kind != ThresholdKind::kOtsu) {
      // Too large to hold the float map and whole outputs: band by band, in two passes.
      LeNet net = d.model.net;
      t = write_heatmap_streamed(net, photo, gray, d.weights, d.cfg.heatmap, d.cfg.threshold,
                                 output_path(o.out, path, ".overlay.png"),
                                 output_path(o.out, path, ".mask.png"))
              .threshold;
    } else {
      const cv::Mat h = d.map(gray);
      t = threshold_value(h, d.cfg.threshold);
      write_png_atomic(output_path(o.out, path, ".overlay.png"), overlay_heatmap(photo, h));
      write_png_atomic(output_path(o.out, path, ".mask.png"), threshold_mask(h, t));
      if (raw) write_png_atomic(output_path(o.out, path, ".heat16.png"), to_u16(h));
    }
    std::cout << path << ": " << photo.cols << "x" << photo.rows << ", " << o.lib.method << ", mode "
              << o.lib.mode << ", polarity "
              << to_string(resolve_polarity(gray, d.cfg.heatmap.polarity)) << ", threshold " << t
              << " -> " << output_path(o.out, path, ".*.png") << "\n";
  }
  return 0;
}

}  // namespace adgap::cli
