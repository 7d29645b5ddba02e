#include "adgap/report/streamed_heatmap.h"

#include <opencv2/core.hpp>

#include <cmath>
#include <stdexcept>

#include "adgap/io/atomic_file.h"
#include "adgap/io/png_stream.h"
#include "adgap/report/render.h"

namespace adgap {

namespace {

constexpr int kHalo = 16;  // rows each band needs beyond its own (pooled mode's 16 is the most)

}  // namespace

void raw_heatmap_bands(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                       const HeatmapConfig& cfg, int band_rows,
                       const std::function<void(int y0, const cv::Mat& band)>& each) {
  if (gray.empty() || gray.type() != CV_8UC1) {
    throw std::invalid_argument("raw_heatmap_bands: expected a non-empty 8-bit grayscale image");
  }
  if (band_rows <= 0 || band_rows % 4 != 0) {
    throw std::invalid_argument("raw_heatmap_bands: band_rows must be a positive multiple of 4");
  }
  HeatmapConfig c = cfg;
  c.polarity = resolve_polarity(gray, cfg.polarity);
  for (int y0 = 0; y0 < gray.rows; y0 += band_rows) {
    const int y1 = std::min(gray.rows, y0 + band_rows);
    const int a = std::max(0, y0 - kHalo), b = std::min(gray.rows, y1 + kHalo);
    const cv::Mat m = raw_heatmap(net, gray.rowRange(a, b), weights, c);
    each(y0, m.rowRange(y0 - a, y1 - a));
  }
}

StreamedHeatmap write_heatmap_streamed(LeNet& net, const cv::Mat& photo, const cv::Mat& gray,
                                       const std::vector<float>& weights,
                                       const HeatmapConfig& cfg, const ThresholdConfig& th,
                                       const std::string& overlay_path,
                                       const std::string& mask_path, int band_rows) {
  if (th.kind == ThresholdKind::kOtsu) {
    throw std::invalid_argument("write_heatmap_streamed: Otsu's threshold needs the whole map");
  }
  if (photo.size() != gray.size()) {
    throw std::invalid_argument("write_heatmap_streamed: photo and gray image differ in size");
  }
  // The polarity is decided once, for both passes.
  HeatmapConfig c = cfg;
  c.polarity = resolve_polarity(gray, cfg.polarity);
  // Pass 1: the raw map's range and moments.
  StreamedHeatmap r;
  r.lo = INFINITY;
  r.hi = -INFINITY;
  double sum = 0, sum_sq = 0;
  raw_heatmap_bands(net, gray, weights, c, band_rows, [&](int, const cv::Mat& band) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(band, &lo, &hi);
    r.lo = std::min(r.lo, lo);
    r.hi = std::max(r.hi, hi);
    sum += cv::sum(band)[0];
    sum_sq += band.dot(band);
  });
  const double n = static_cast<double>(gray.total());
  const double span = r.hi > r.lo ? r.hi - r.lo : 0.0;
  if (th.kind == ThresholdKind::kMeanStd) {
    // The [0, 1] map is an affine image of the raw one: its mean and std follow.
    const double mean = sum / n, var = std::max(0.0, sum_sq / n - mean * mean);
    r.threshold = span > 0 ? (mean - r.lo) / span + th.k * std::sqrt(var) / span : 0.0;
  } else {
    r.threshold = th.level;
  }
  // Pass 2: the normalised rows (as normalize_min_max), rendered and written band by band.
  atomic_write(overlay_path, [&](const std::string& overlay_tmp) {
    atomic_write(mask_path, [&](const std::string& mask_tmp) {
      PngRowWriter overlay(overlay_tmp, gray.cols, gray.rows, 3);
      PngRowWriter mask(mask_tmp, gray.cols, gray.rows, 1);
      raw_heatmap_bands(net, gray, weights, c, band_rows, [&](int y0, const cv::Mat& band) {
        cv::Mat h;
        if (span > 0) {
          band.convertTo(h, CV_32F, 1.0 / span, -r.lo / span);
          cv::max(h, 0.0, h);
          cv::min(h, 1.0, h);
        } else {
          h = cv::Mat::zeros(band.size(), CV_32F);
        }
        overlay.write(overlay_heatmap(photo.rowRange(y0, y0 + h.rows), h));
        mask.write(threshold_mask(h, r.threshold));
      });
      mask.finish();
      overlay.finish();
    });
  });
  return r;
}

}  // namespace adgap
