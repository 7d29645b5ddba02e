// Localisation maps by name: AdGAP (ours and the paper's exact recipe) and the baselines it is
// measured against, all from the same trained network and trunk, all returning a CV_32F map
// of the input's size normalised to [0, 1], so that thresholding, detection and metrics treat
// them alike.
//
//   adgap           filter importance (Eq. 1) weights, our settings (HeatmapConfig given)
//   adgap-paper     the paper's exact recipe: pools removed, zero padding, loss-rise weights
//   cam             Zhou et al. 2016: linear classifier on the pooled maps' global averages
//   grad-cam        Selvaraju et al. 2017, on the classifier head applied convolutionally
//   grad-cam++      Chattopadhay et al. 2018, same head
//   ablation-cam    Desai & Ramaswamy 2020: score drop when each filter is zeroed, per image
//   score-cam       Wang et al. 2020: score of the image masked by each upsampled filter map
//   mean-activation the reference repository's "newer GAP": mean filter activation
//   ccgap           the reference repository's loss change over filter energy
//   uniform         the plain sum of the 16 final maps
//   sobel           no network: image-gradient magnitude
//   mser            no network: how many MSER regions (under a quarter of the image) cover
//                   each pixel
//
// Class-specific methods (cam, grad-cam, grad-cam++, ablation-cam, score-cam) are computed for
// every class and fused by the pixel-wise maximum, since a scene may hold any digits. The
// head applied convolutionally: fc1 is a 7x7 convolution over the pooled trunk and fc2, fc3
// are 1x1, giving class scores for every 28x28 window at stride 4; a class's image score is
// the sum over windows of its softmax probability.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "adgap/heatmap/heatmap.h"
#include "adgap/importance/importance.h"

namespace adgap {

enum class Method {
  kAdgap,
  kAdgapPaper,
  kCam,
  kGradCam,
  kGradCamPP,
  kAblationCam,
  kScoreCam,
  kMeanActivation,
  kCcGap,
  kUniform,
  kSobel,
  kMser,
};

Method parse_method(const std::string& s);  // names as listed above
std::string to_string(Method m);
const std::vector<Method>& all_methods();

// Class scores of every 28x28 window: pooled maps (N, 16, h, w) -> logits (N, C, h-6, w-6)
// (the maps are zero-padded to at least 7x7 first).
at::Tensor dense_head(LeNet& net, const at::Tensor& maps);

// The method's map of an 8-bit gray image, normalised to [0, 1]. `cfg` sets polarity, input
// scaling and, for the weighting methods (adgap, mean-activation, ccgap, uniform), map mode,
// border and tiling; adgap-paper ignores mode and border (it is the paper's).
cv::Mat method_map(Method m, LeNet& net, const FilterImportance& imp, const cv::Mat& gray,
                   const HeatmapConfig& cfg);

}  // namespace adgap
