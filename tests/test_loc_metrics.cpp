// Localisation metrics on hand-made maps with hand-computed answers.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "adgap/eval/loc_metrics.h"

namespace adgap {
namespace {

cv::Mat box_map(cv::Size sz, const cv::Rect& r, float inside = 1.0f, float outside = 0.0f) {
  cv::Mat m(sz, CV_32F, cv::Scalar(outside));
  m(r).setTo(inside);
  return m;
}

TEST(PointingGame, HitWithinFifteenPixels) {
  cv::Mat h = cv::Mat::zeros(60, 60, CV_32F);
  h.at<float>(10, 10) = 1.0f;                                      // maximum at (x 10, y 10)
  EXPECT_TRUE(pointing_hit(h, {{5, 5, 10, 10}}));                  // inside
  EXPECT_TRUE(pointing_hit(h, {{20, 20, 5, 5}}));                  // sqrt(10^2 + 10^2) = 14.1
  EXPECT_FALSE(pointing_hit(h, {{22, 22, 5, 5}}));                 // sqrt(12^2 + 12^2) = 17.0
  EXPECT_TRUE(pointing_hit(h, {{40, 40, 5, 5}, {10, 25, 5, 5}}));  // 15 below: exactly 15
  EXPECT_FALSE(pointing_hit(h, {}));
}

TEST(PxAP, PerfectInvertedAndSplitMaps) {
  const cv::Size sz(20, 10);        // 200 pixels
  const cv::Rect box(0, 0, 5, 10);  // 50 positive pixels
  PxAP perfect;
  perfect.add(box_map(sz, box), {box});
  EXPECT_DOUBLE_EQ(perfect.value(), 1.0);
  PxAP inverted;  // positives lowest: precision 50/200 at the only recall step
  inverted.add(box_map(sz, box, 0.0f, 1.0f), {box});
  EXPECT_DOUBLE_EQ(inverted.value(), 0.25);
  // Half the positives at 1, half at 0, negatives at 0.5:
  // recall 0.5 at precision 1, then recall 1 at precision 50/200.
  cv::Mat split = box_map(sz, box, 0.0f, 0.5f);
  split(cv::Rect(0, 0, 5, 5)).setTo(1.0f);
  PxAP s;
  s.add(split, {box});
  EXPECT_DOUBLE_EQ(s.value(), 0.5 * 1.0 + 0.5 * 0.25);
  PxAP none;
  none.add(box_map(sz, box), {});
  EXPECT_DOUBLE_EQ(none.value(), 0.0);
}

TEST(MaxBoxAccV2, ExactAndShiftedBlobs) {
  const cv::Size sz(100, 100);
  const cv::Rect truth(20, 20, 20, 20);
  MaxBoxAccV2 exact;
  exact.add(box_map(sz, truth), {truth});
  EXPECT_DOUBLE_EQ(exact.value(), 1.0);
  // Shifted by 10 px right: IoU 200 / 600 = 0.333 -> only sigma 0.3 counts.
  MaxBoxAccV2 shifted;
  shifted.add(box_map(sz, {30, 20, 20, 20}), {truth});
  EXPECT_NEAR(shifted.value(), 1.0 / 3, 1e-12);
  // Two truths, one found exactly, one missed.
  MaxBoxAccV2 half;
  half.add(box_map(sz, truth), {truth, {70, 70, 10, 10}});
  EXPECT_DOUBLE_EQ(half.value(), 0.5);
  // A map that is bright on the box and dim around it: the best threshold isolates the box.
  MaxBoxAccV2 graded;
  graded.add(box_map(sz, truth, 0.9f, 0.3f), {truth});
  EXPECT_DOUBLE_EQ(graded.value(), 1.0);
}

}  // namespace
}  // namespace adgap
