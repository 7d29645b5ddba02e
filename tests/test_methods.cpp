// Localisation methods: every method gives a [0, 1] map of the input's size; the convolutional
// head equals the fully connected one on a 28x28 input; Grad-CAM by hand on a tiny case.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "adgap/methods/methods.h"
#include "trained.h"

namespace adgap {
namespace {

TEST(Methods, DenseHeadEqualsTheHeadOnOneWindow) {
  at::manual_seed(1);
  LeNet net;
  net->eval();
  at::NoGradGuard g;
  const at::Tensor x = at::rand({3, 1, 28, 28});
  const at::Tensor maps = net->trunk(x);
  const at::Tensor dense = dense_head(net, maps);  // (3, 10, 1, 1)
  ASSERT_EQ(dense.sizes(), (at::IntArrayRef{3, 10, 1, 1}));
  EXPECT_TRUE(at::allclose(at::log_softmax(dense.flatten(1), 1), net->head(maps), 1e-5, 1e-6));
  // On a 60x44 image: (15 - 6) x (11 - 6) windows; window (i, j) = head of maps[.., i:i+7, j:j+7].
  const at::Tensor big = net->trunk(at::rand({1, 1, 60, 44}));
  const at::Tensor d = dense_head(net, big);
  ASSERT_EQ(d.sizes(), (at::IntArrayRef{1, 10, 9, 5}));
  const at::Tensor win = big.narrow(2, 4, 7).narrow(3, 2, 7).contiguous();
  EXPECT_TRUE(
      at::allclose(at::log_softmax(d.select(2, 4).select(2, 2), 1), net->head(win), 1e-5, 1e-6));
}

TEST(Methods, EveryMethodGivesANormalisedMapOfTheInputSize) {
  test::Trained t = test::load_trained();
  cv::Mat img(70, 93, CV_8U, cv::Scalar(25));
  cv::rectangle(img, cv::Rect(30, 20, 6, 30), cv::Scalar(230), cv::FILLED);
  HeatmapConfig cfg;
  cfg.mode = MapMode::kPooled;
  for (Method m : all_methods()) {
    const cv::Mat h = method_map(m, t.model.net, t.importance, img, cfg);
    ASSERT_EQ(h.size(), img.size()) << to_string(m);
    ASSERT_EQ(h.type(), CV_32F) << to_string(m);
    double lo, hi;
    cv::minMaxLoc(h, &lo, &hi);
    EXPECT_GE(lo, 0.0) << to_string(m);
    EXPECT_LE(hi, 1.0) << to_string(m);
    EXPECT_GT(hi, 0.0) << to_string(m) << ": flat map for an image with a stroke";
    EXPECT_EQ(parse_method(to_string(m)), m);
  }
  EXPECT_THROW(parse_method("magic-cam"), std::invalid_argument);
}

TEST(Methods, SobelPeaksOnTheEdgeAndMserOnTheBlob) {
  LeNet net;
  FilterImportance imp;
  cv::Mat img(60, 60, CV_8U, cv::Scalar(0));
  img(cv::Rect(30, 0, 30, 60)).setTo(200);  // one vertical edge at x = 30
  const cv::Mat s = method_map(Method::kSobel, net, imp, img, {});
  cv::Point at;
  cv::minMaxLoc(s, nullptr, nullptr, nullptr, &at);
  EXPECT_NEAR(at.x, 29.5, 1.0);
  cv::Mat blob(60, 60, CV_8U, cv::Scalar(200));
  cv::circle(blob, {20, 30}, 8, cv::Scalar(20), cv::FILLED);
  const cv::Mat m = method_map(Method::kMser, net, imp, blob, {});
  EXPECT_GT(m.at<float>(30, 20), m.at<float>(5, 55));
}

}  // namespace
}  // namespace adgap
