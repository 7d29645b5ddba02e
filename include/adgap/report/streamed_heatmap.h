// Heatmap outputs for images too large to hold their float map: the raw map is computed band
// by band (twice: its range and moments first, then the normalised rows), and the overlay and
// mask PNGs are written band by band. Memory: the image, one band of map and of each output.
#pragma once

#include <opencv2/core/mat.hpp>

#include <functional>
#include <string>
#include <vector>

#include "adgap/heatmap/heatmap.h"
#include "adgap/heatmap/threshold.h"

namespace adgap {

// raw_heatmap(net, gray, weights, cfg) in bands of `band_rows` rows (a multiple of 4), top to
// bottom: each band computed from its rows and 16 more on each side, equal to the whole map's
// rows to float rounding. The polarity is resolved once on the whole image.
void raw_heatmap_bands(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                       const HeatmapConfig& cfg, int band_rows,
                       const std::function<void(int y0, const cv::Mat& band)>& each);

struct StreamedHeatmap {
  double lo = 0, hi = 0;   // the raw map's range (min-max normalisation)
  double threshold = 0;    // the mask's level on the [0, 1] map
};

// overlay_heatmap(photo, heatmap(...)) and threshold_mask(...) written to the two paths
// (atomically, band by band). The threshold is mean + k std (from the raw map's moments) or a
// fixed level; Otsu needs the whole map (std::invalid_argument). Equal to the in-memory
// outputs but for pixels within float rounding of the threshold.
StreamedHeatmap write_heatmap_streamed(LeNet& net, const cv::Mat& photo, const cv::Mat& gray,
                                       const std::vector<float>& weights,
                                       const HeatmapConfig& cfg, const ThresholdConfig& th,
                                       const std::string& overlay_path,
                                       const std::string& mask_path, int band_rows = 512);

}  // namespace adgap
