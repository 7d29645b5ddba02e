// The demo's index.html: training curve, filter weights, accuracy, scene metrics, and for every
// image the original, heatmap overlay, mask and detections side by side.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "adgap/detect/detect.h"

namespace adgap {

struct DemoImage {
  std::string title;     // e.g. the photo's file name
  std::string original;  // paths relative to index.html
  std::string overlay;
  std::string mask;
  std::string detect;
  std::string note;  // one line: size, polarity, digits read
};

struct DemoReport {
  std::string model_line;    // e.g. "LeNet (Table 1), mnist, 10 epochs, seed 0"
  double test_accuracy = 0;  // [0, 1]
  std::vector<double> class_accuracy;
  std::string loss_png, weights_png;
  std::string map_mode, detect_mode;
  std::string scene_table_md;  // Markdown table rows from eval-scenes
  std::string scene_caption;
  std::vector<DemoImage> images;
};

// Writes one image's original, heatmap overlay, mask (h01 cut at `threshold`) and detections
// into <out>/images/<stem>.*.png and returns its entry.
DemoImage write_demo_image(const std::string& out, const std::string& stem, const cv::Mat& bgr,
                           const cv::Mat& h01, double threshold, Polarity polarity,
                           const std::vector<Detection>& dets);

// Writes the page atomically.
void write_demo_html(const std::string& path, const DemoReport& r);

}  // namespace adgap
