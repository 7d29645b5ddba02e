// Stroke-region proposals: character candidates from the image's own structure, to join the
// AdGAP map's hotspots. Maximally stable extremal regions (both polarities) give one box per
// stroke shape, at every size (large ones on a coarser level of a pyramid), and the same on
// top-hats of each level give the strokes cut free of what they touch; a wide box
// (touching digits, a whole number) is also cut into equal parts of a digit's width. Each crop
// is normalised with its surroundings kept: the box fills 20 of 28 px (MNIST's layout), strokes
// bright, the local background at 0.
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

namespace adgap {

struct ProposalConfig {
  int delta = 3;                 // MSER stability step, grey levels
  int min_area = 12;             // px of a region
  double max_variation = 1.0;    // MSER: area change allowed over `delta` (loose: blurred ink)
  double min_diversity = 0.2;    // MSER: nested regions closer than this in area are one
  int min_height = 10;           // px: shorter boxes are not digits here
  double max_height = 0.7;       // boxes taller than this fraction of the image are dropped
  double max_aspect = 1.6;       // width / height above this: never a single digit (only cut)
  double split_aspect = 0.8;     // wider than this: also cut into parts ...
  double digit_aspect = 0.6;     // ... each about this fraction of the height wide
  int max_parts = 8;
  // MSER runs on a pyramid of halvings: a level lists regions of at most level_max_area px
  // (listing large regions' pixels is what costs), coarser levels only boxes at least
  // level_min_height px tall (smaller ones were found finer); the coarsest level, the first
  // under twice coarsest_side px on its shorter side, lists every size. level_max_area 0:
  // one level, every size.
  int level_max_area = 6000;
  int level_min_height = 20;
  int coarsest_side = 64;
  double same_box = 0.9;         // IoU above which two proposals are one
  // MSER also runs on each level's white and black top-hats with an ellipse of this many px:
  // strokes narrower than it, cut free of the wider areas they touch (a digit on the edge of a
  // dark band, beside a window), which the level's own regions merge with. 0: off.
  int tophat = 9;
  // With top-hats, the levels' own regions from this level on (0: every level). The finest
  // level's own regions add many proposals on texture and little that its top-hats miss
  // (README, "Benchmark v2").
  int plain_from = 1;
};

struct Proposal {
  cv::Rect box;
  bool dark_on_light = true;  // ink darker than its surroundings
};

// Proposals of an 8-bit gray image.
std::vector<Proposal> region_proposals(const cv::Mat& gray, const ProposalConfig& cfg = {});

// Whether the ink inside `box` is darker than the ring just outside it.
bool darker_than_surroundings(const cv::Mat& gray, const cv::Rect& box);

// The 28x28 float crop in [0, 1] of `box` with its surroundings: the box's longer side scaled
// to 20 px and centred, the local background (the median of a ring around the box) at 0 and
// the ink (a high percentile inside the box) at 1, dark ink inverted. False when the box holds
// no contrast at all.
bool context_normalize(const cv::Mat& gray, const cv::Rect& box, bool dark_on_light,
                       cv::Mat& out28);

}  // namespace adgap
