// Heatmaps, the paper's Eq. 2: H = sum_i W_i F_i over the final filter responses F_i, for
// images of any size, computed tile by tile so that memory grows only with the input and the
// output, never with intermediate feature maps.
//
// Three ways to get a full-resolution F (MapMode):
//   paper  - the reference's deploy trunk: conv1 ReLU conv2 ReLU with both pools removed.
//   pooled - the trained trunk with its pools; the (H/4, W/4) map is bilinearly upsampled x4.
//   dense  - the trained trunk evaluated at every pixel shift ("a trous"): stride-1 pools and a
//            dilated conv2. D[t] equals the pooled trunk of the image shifted by t mod 4 at cell
//            t div 4 (away from borders); the map is then shifted by 2 px to centre it.
#pragma once

#include <ATen/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "adgap/model/lenet.h"

namespace adgap {

enum class MapMode { kPaper, kPooled, kDense };
// Stroke polarity of the input. MNIST digits are light on dark; dark-on-light images are
// inverted first. auto decides from the skew of the image against its local blur; both fuses the
// two maps (pixel max).
enum class Polarity { kAuto, kLightOnDark, kDarkOnLight, kBoth };

MapMode parse_map_mode(const std::string& s);   // "paper" | "pooled" | "dense"
Polarity parse_polarity(const std::string& s);  // "auto" | "light-on-dark" | ...
std::string to_string(MapMode m);
std::string to_string(Polarity p);

// The 16 final-filter maps of x (N, C, H, W) in the given mode:
// paper (N, 16, H, W); pooled (N, 16, H/4, W/4); dense (N, 16, H, W), unshifted D (see above).
at::Tensor trunk_maps(LeNet& net, const at::Tensor& x, MapMode mode);

// What the network sees beyond the image's edge.
enum class Border {
  kReplicate,  // the edge pixels repeated: no artificial edge at the image border
  kZero,       // the network's own zero padding, as the reference implementation
};

// The network's input for an 8-bit gray image: (1, 1, H, W) float, pixels inverted first when
// `invert`, then pixel * scale + offset.
at::Tensor network_input(const cv::Mat& gray, bool invert, double scale, double offset);
// x (N, C, H, W) zero-padded on the right and bottom to multiples of 4 (for the pooled trunk).
at::Tensor pad_to_4(const at::Tensor& x);
// A quarter-resolution map (h4, w4) of a pad_to_4 input, bilinearly upsampled x4 (cell q's
// centre lands on pixel 4q + 1.5, the centre of its receptive field) and cropped to h x w.
cv::Mat upsample_quarter(const at::Tensor& small, int h, int w);

struct HeatmapConfig {
  MapMode mode = MapMode::kPaper;       // the reference's deploy trunk
  Polarity polarity = Polarity::kAuto;  // light-on-dark digits are what the net knows
  Border border = Border::kReplicate;   // zero padding makes the image border a hotspot
  int64_t tile = 512;                   // output tile edge in pixels; 0: one tile
  double input_scale = 1.0 / 255.0;     // from the model's metadata
  double input_offset = 0.0;
  bool reference = false;  // paper mode on LibTorch's convolutions instead of adgap's own
                           //   kernel (paper_kernel.h); the two agree to float rounding
};

// Raw (unnormalised) H of an 8-bit grayscale image, CV_32F of exactly the input's size.
// `weights` has one entry per final filter. Tiled and untiled results agree to float rounding.
cv::Mat raw_heatmap(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                    const HeatmapConfig& cfg);

// The polarity auto picks for an image: dark-on-light when its residuals against a local blur
// (sigma 8 px) have negative skew, i.e. thin dark strokes stand out from a lighter surround.
Polarity resolve_polarity(const cv::Mat& gray, Polarity p);

// Min-max normalisation to [0, 1] in place (all zeros when the map is flat).
void normalize_min_max(cv::Mat& h);

// raw_heatmap followed by normalize_min_max.
cv::Mat heatmap(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                const HeatmapConfig& cfg);

}  // namespace adgap
