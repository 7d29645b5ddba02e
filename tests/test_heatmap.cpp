// Heatmaps (Eq. 2): size, tiling, dense = pooled at every shift, translation, polarity,
// thresholds.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "adgap/heatmap/heatmap.h"
#include "adgap/heatmap/paper_kernel.h"
#include "adgap/heatmap/threshold.h"
#include "adgap/report/render.h"
#include "adgap/report/streamed_heatmap.h"
#include "fixtures.h"
#include "trained.h"

namespace adgap {
namespace {

const MapMode kModes[] = {MapMode::kPaper, MapMode::kPooled, MapMode::kDense};

cv::Mat random_image(int h, int w, uint64_t seed) {
  cv::Mat img(h, w, CV_8U);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}

std::vector<float> random_weights(uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor w = at::randn({16});
  return {w.data_ptr<float>(), w.data_ptr<float>() + 16};
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }

TEST(Heatmap, SizeAlwaysEqualsTheInput) {
  at::manual_seed(0);
  LeNet net;
  const std::vector<float> w = random_weights(1);
  for (MapMode m : kModes) {
    for (const cv::Size sz :
         {cv::Size(28, 28), cv::Size(211, 37), cv::Size(3, 5), cv::Size(1, 1), cv::Size(130, 67)}) {
      HeatmapConfig cfg;
      cfg.mode = m;
      cfg.tile = 64;
      const cv::Mat h = heatmap(net, random_image(sz.height, sz.width, 3), w, cfg);
      EXPECT_EQ(h.size(), sz) << to_string(m);
      EXPECT_EQ(h.type(), CV_32F);
      double lo, hi;
      cv::minMaxLoc(h, &lo, &hi);
      EXPECT_GE(lo, 0.0);
      EXPECT_LE(hi, 1.0);
    }
  }
}

TEST(PaperKernel, EqualsLibTorchsConvolutions) {
  // adgap's fused kernel against conv1 ReLU conv2 ReLU sum_i w_i F_i on LibTorch, on random
  // weights (Table 1 and a wider trunk), odd sizes (narrower than a vector, not multiples of
  // one), both polarities and an input offset: within 1e-4 of the map's largest magnitude.
  for (const LeNetWidths& widths : {LeNetWidths{}, LeNetWidths{8, 20, 120, 84}}) {
    at::manual_seed(7);
    LeNetOptions o;
    o.widths = widths;
    LeNet net(o);
    net->eval();
    at::manual_seed(8);
    const at::Tensor wt = at::randn({widths.conv2});
    const std::vector<float> w(wt.data_ptr<float>(), wt.data_ptr<float>() + widths.conv2);
    const PaperKernelWeights own = PaperKernelWeights::from(net, w);
    for (const cv::Size sz : {cv::Size(1, 1), cv::Size(7, 3), cv::Size(61, 37), cv::Size(33, 90),
                              cv::Size(130, 97)}) {
      const cv::Mat img = random_image(sz.height, sz.width, 11);
      for (bool invert : {false, true}) {
        at::NoGradGuard g;
        const at::Tensor x = network_input(img, invert, 1.0 / 255, -0.1);
        const at::Tensor ref = (trunk_maps(net, x, MapMode::kPaper)[0] *
                                wt.view({widths.conv2, 1, 1}))
                                   .sum(0)
                                   .contiguous();
        const cv::Mat ref_m(sz, CV_32F, const_cast<float*>(ref.data_ptr<float>()));
        const cv::Mat got = paper_map(own, img, invert, 1.0 / 255, -0.1);
        ASSERT_EQ(got.size(), sz);
        const double scale = std::max(1.0, cv::norm(ref_m, cv::NORM_INF));
        EXPECT_LE(max_abs_diff(got, ref_m), 1e-4 * scale)
            << sz << " invert " << invert << " conv2 " << widths.conv2;
      }
    }
  }
}

TEST(PaperKernel, RawHeatmapUsesItUnlessTheReferenceIsAsked) {
  at::manual_seed(4);
  LeNet net;
  const std::vector<float> w = random_weights(5);
  const cv::Mat img = random_image(120, 141, 6);
  for (Polarity p : {Polarity::kDarkOnLight, Polarity::kBoth}) {
    HeatmapConfig own;
    own.polarity = p;
    own.tile = 64;
    HeatmapConfig ref = own;
    ref.reference = true;
    const cv::Mat a = raw_heatmap(net, img, w, own), b = raw_heatmap(net, img, w, ref);
    const double scale = cv::norm(b, cv::NORM_INF);
    ASSERT_GT(scale, 0);
    EXPECT_LE(max_abs_diff(a, b), 1e-4 * scale) << to_string(p);
    EXPECT_GT(max_abs_diff(a, b), 0.0) << "the two paths gave bit-identical maps: is the own "
                                          "kernel in use?";
  }
}

TEST(StreamedHeatmap, BandsGiveTheInMemoryOutputs) {
  // Band by band (bands of 32 rows, tiles of 48) against the whole map: the overlay within
  // one grey level, the mask the same but for pixels at the threshold (under 0.1 %).
  at::manual_seed(12);
  LeNet net;
  const std::vector<float> w = random_weights(13);
  cv::Mat photo(150, 121, CV_8UC3);
  cv::randu(photo, 0, 256);
  cv::GaussianBlur(photo, photo, cv::Size(0, 0), 2.0);  // some structure, some extremes
  cv::Mat gray;
  cv::cvtColor(photo, gray, cv::COLOR_BGR2GRAY);
  test::TempDir dir;
  for (MapMode m : {MapMode::kPaper, MapMode::kPooled}) {
    for (ThresholdKind kind : {ThresholdKind::kMeanStd, ThresholdKind::kFixed}) {
      HeatmapConfig cfg;
      cfg.mode = m;
      cfg.tile = 48;
      ThresholdConfig th;
      th.kind = kind;
      th.k = 1.0;
      const cv::Mat h = heatmap(net, gray, w, cfg);
      const double t = threshold_value(h, th);
      const StreamedHeatmap r = write_heatmap_streamed(net, photo, gray, w, cfg, th,
                                                       dir.file("o.png"), dir.file("m.png"), 32);
      EXPECT_NEAR(r.threshold, t, 1e-5) << to_string(m);
      const cv::Mat overlay = cv::imread(dir.file("o.png"), cv::IMREAD_UNCHANGED);
      const cv::Mat mask = cv::imread(dir.file("m.png"), cv::IMREAD_UNCHANGED);
      ASSERT_EQ(overlay.size(), photo.size());
      ASSERT_EQ(mask.type(), CV_8U);
      EXPECT_LE(cv::norm(overlay, overlay_heatmap(photo, h), cv::NORM_INF), 1.0) << to_string(m);
      cv::Mat differ;
      cv::compare(mask, threshold_mask(h, t), differ, cv::CMP_NE);
      EXPECT_LE(cv::countNonZero(differ), static_cast<int>(0.001 * mask.total())) << to_string(m);
      EXPECT_GT(cv::countNonZero(mask), 0);
    }
  }
  ThresholdConfig otsu;
  otsu.kind = ThresholdKind::kOtsu;
  EXPECT_THROW(write_heatmap_streamed(net, photo, gray, w, HeatmapConfig{}, otsu, dir.file("a.png"),
                                     dir.file("b.png")),
               std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.png")));
}

TEST(Heatmap, TiledEqualsUntiled) {
  at::manual_seed(2);
  LeNet net;
  const std::vector<float> w = random_weights(3);
  const cv::Mat img = random_image(150, 133, 4);
  for (MapMode m : kModes) {
    for (Polarity p : {Polarity::kLightOnDark, Polarity::kBoth}) {
      for (Border b : {Border::kReplicate, Border::kZero}) {
        HeatmapConfig whole;
        whole.mode = m;
        whole.polarity = p;
        whole.border = b;
        whole.tile = 0;
        const cv::Mat ref = raw_heatmap(net, img, w, whole);
        const double scale = cv::norm(ref, cv::NORM_INF);
        ASSERT_GT(scale, 0);
        for (int64_t tile : {32, 48, 100}) {
          HeatmapConfig tiled = whole;
          tiled.tile = tile;
          // Float rounding only: the sums are the same, in possibly different order.
          EXPECT_LE(max_abs_diff(raw_heatmap(net, img, w, tiled), ref), 1e-5 * scale)
              << to_string(m) << " " << to_string(p) << " tile " << tile;
        }
      }
    }
  }
}

TEST(Heatmap, DenseEqualsPooledAtEveryShift) {
  at::manual_seed(6);
  LeNet net;
  net->eval();
  at::NoGradGuard g;
  const int64_t H = 48, W = 52;
  const at::Tensor x = at::rand({1, 1, H, W});
  const at::Tensor dense = trunk_maps(net, x, MapMode::kDense);  // (1, 16, H, W)
  ASSERT_EQ(dense.sizes(), (at::IntArrayRef{1, 16, H, W}));
  int compared = 0;
  for (int64_t sy = 0; sy < 4; ++sy) {
    for (int64_t sx = 0; sx < 4; ++sx) {
      const at::Tensor shifted = x.narrow(2, sy, H - sy).narrow(3, sx, W - sx);
      const at::Tensor pooled = trunk_maps(net, shifted, MapMode::kPooled);  // (1, 16, h, w)
      // Cell q of the shifted image sees input rows 4q + s - 6 .. 4q + s + 9: compare the
      // cells that see neither the image border nor the shifted image's border.
      for (int64_t qy = 2; 4 * qy + sy + 10 <= H - 8 && qy < pooled.size(2); ++qy) {
        for (int64_t qx = 2; 4 * qx + sx + 10 <= W - 8 && qx < pooled.size(3); ++qx) {
          const at::Tensor a = pooled[0].select(1, qy).select(1, qx);
          const at::Tensor b = dense[0].select(1, 4 * qy + sy).select(1, 4 * qx + sx);
          ASSERT_TRUE(at::allclose(a, b, 1e-5, 1e-6))
              << "shift " << sy << "," << sx << " cell " << qy << "," << qx;
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 16 * 20);
}

TEST(Heatmap, ShiftingADigitShiftsThePeak) {
  test::Trained t = test::load_trained();
  const Dataset digits = load_split(test::mnist_dir(), "test", 10);
  const at::Tensor d = digits.images[0][0].contiguous();  // a 7
  const cv::Mat digit(28, 28, CV_8U, d.data_ptr<uint8_t>());
  auto peak = [&](MapMode m, int x, int y) {
    cv::Mat canvas = cv::Mat::zeros(140, 160, CV_8U);
    digit.copyTo(canvas(cv::Rect(x, y, 28, 28)));
    HeatmapConfig cfg;
    cfg.mode = m;
    cfg.polarity = Polarity::kLightOnDark;
    const cv::Mat h = heatmap(t.model.net, canvas, t.importance.weights(), cfg);
    cv::Point at;
    double hi;
    cv::minMaxLoc(h, nullptr, &hi, nullptr, &at);
    EXPECT_GT(hi, 0.0);
    return at;
  };
  // paper and dense are equivariant to any shift; pooled to shifts by multiples of 4.
  for (MapMode m : {MapMode::kPaper, MapMode::kDense}) {
    EXPECT_EQ(peak(m, 50, 41) - peak(m, 30, 20), cv::Point(20, 21)) << to_string(m);
    EXPECT_EQ(peak(m, 43, 27) - peak(m, 30, 20), cv::Point(13, 7)) << to_string(m);
  }
  EXPECT_EQ(peak(MapMode::kPooled, 42, 28) - peak(MapMode::kPooled, 30, 20), cv::Point(12, 8));
  // The peak lies on the digit.
  const cv::Point p = peak(MapMode::kPaper, 60, 50);
  EXPECT_TRUE(cv::Rect(60 - 4, 50 - 4, 36, 36).contains(p)) << p;
}

TEST(Heatmap, ReplicatedBorderKeepsTheImageEdgeCold) {
  // A flat grey image has no strokes anywhere: with replicated borders its map is flat, with
  // zero padding the image's edge lights up.
  at::manual_seed(10);
  LeNet net;
  const std::vector<float> w = random_weights(11);
  const cv::Mat flat(60, 70, CV_8U, cv::Scalar(90));
  HeatmapConfig cfg;
  const cv::Mat rep = raw_heatmap(net, flat, w, cfg);
  EXPECT_LE(cv::norm(rep - rep.at<float>(30, 35), cv::NORM_INF), 1e-5);
  cfg.border = Border::kZero;
  const cv::Mat zero = raw_heatmap(net, flat, w, cfg);
  EXPECT_GT(std::abs(zero.at<float>(0, 0) - zero.at<float>(30, 35)), 1e-3);
  EXPECT_FLOAT_EQ(zero.at<float>(30, 35), rep.at<float>(30, 35));  // interiors agree
}

TEST(Heatmap, PolarityAutoAndBoth) {
  cv::Mat light_on_dark = cv::Mat::zeros(80, 90, CV_8U);
  cv::putText(light_on_dark, "47", {10, 60}, cv::FONT_HERSHEY_SIMPLEX, 1.5, 255, 3);
  const cv::Mat dark_on_light = 255 - light_on_dark;
  EXPECT_EQ(resolve_polarity(light_on_dark, Polarity::kAuto), Polarity::kLightOnDark);
  EXPECT_EQ(resolve_polarity(dark_on_light, Polarity::kAuto), Polarity::kDarkOnLight);
  EXPECT_EQ(resolve_polarity(dark_on_light, Polarity::kLightOnDark), Polarity::kLightOnDark);
  // Inverting the image and declaring the other polarity gives the same map.
  at::manual_seed(8);
  LeNet net;
  const std::vector<float> w = random_weights(9);
  HeatmapConfig a, b, both, inv;
  a.polarity = Polarity::kLightOnDark;
  b.polarity = Polarity::kDarkOnLight;
  both.polarity = Polarity::kBoth;
  EXPECT_LE(
      max_abs_diff(raw_heatmap(net, light_on_dark, w, a), raw_heatmap(net, dark_on_light, w, b)),
      1e-5);
  // both = pixel-wise max of the two.
  const cv::Mat expect =
      cv::max(raw_heatmap(net, light_on_dark, w, a), raw_heatmap(net, light_on_dark, w, b));
  EXPECT_LE(max_abs_diff(raw_heatmap(net, light_on_dark, w, both), expect), 1e-6);
  EXPECT_THROW(parse_polarity("sideways"), std::invalid_argument);
  EXPECT_THROW(parse_map_mode("sparse"), std::invalid_argument);
}

TEST(Heatmap, BadInputIsRejected) {
  LeNet net;
  EXPECT_THROW(raw_heatmap(net, cv::Mat(), random_weights(1), {}), std::invalid_argument);
  EXPECT_THROW(raw_heatmap(net, cv::Mat::zeros(9, 9, CV_32F), random_weights(1), {}),
               std::invalid_argument);
  EXPECT_THROW(raw_heatmap(net, random_image(9, 9, 1), std::vector<float>(15, 1.0f), {}),
               std::invalid_argument);
}

TEST(Threshold, HandComputedValues) {
  cv::Mat h = (cv::Mat_<float>(1, 4) << 0, 0, 0, 1);
  ThresholdConfig c;  // mean + 2 std: 0.25 + 2 * 0.4330127
  EXPECT_NEAR(threshold_value(h, c), 0.25 + 2 * std::sqrt(0.1875), 1e-6);
  c.k = 1;
  EXPECT_NEAR(threshold_value(h, c), 0.25 + std::sqrt(0.1875), 1e-6);
  EXPECT_EQ(cv::countNonZero(threshold_mask(h, threshold_value(h, c))), 1);
  c.kind = ThresholdKind::kFixed;
  c.level = 0.0;
  EXPECT_EQ(cv::countNonZero(threshold_mask(h, threshold_value(h, c))), 4);
  // Otsu splits two clusters between them.
  cv::Mat bi = (cv::Mat_<float>(1, 8) << 0.1f, 0.12f, 0.11f, 0.1f, 0.8f, 0.82f, 0.79f, 0.8f);
  c.kind = ThresholdKind::kOtsu;
  const double t = threshold_value(bi, c);
  EXPECT_GT(t, 0.12);
  EXPECT_LT(t, 0.79);
  EXPECT_EQ(cv::countNonZero(threshold_mask(bi, t)), 4);
  EXPECT_THROW(parse_threshold("magic"), std::invalid_argument);
}

TEST(Threshold, MinMaxNormalisation) {
  cv::Mat h = (cv::Mat_<float>(1, 3) << -2, 0, 2);
  normalize_min_max(h);
  EXPECT_FLOAT_EQ(h.at<float>(0), 0.0f);
  EXPECT_FLOAT_EQ(h.at<float>(1), 0.5f);
  EXPECT_FLOAT_EQ(h.at<float>(2), 1.0f);
  cv::Mat flat(2, 2, CV_32F, cv::Scalar(3));
  normalize_min_max(flat);
  EXPECT_EQ(cv::countNonZero(flat), 0);
}

}  // namespace
}  // namespace adgap
