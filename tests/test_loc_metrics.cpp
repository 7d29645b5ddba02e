// Localisation metrics on hand-made maps with hand-computed answers.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

#include "adgap/eval/bench_v2.h"
#include "adgap/eval/loc_bench.h"
#include "adgap/eval/loc_metrics.h"
#include "adgap/report/bench_report.h"
#include "fixtures.h"

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

// Annotation files: "photos" and "negatives" may each be absent, a negative keeps its kind, and
// a photo that is not installed is named with the command that installs it.
TEST(RealPhotos, DigitFreeFilesKeepKindsAndNameMissingPhotos) {
  test::TempDir dir;
  const std::string photo = "/usr/share/doc/opencv-doc/examples/data/sudoku.png";  // scripts/deps.sh
  const std::string file = dir.file("free.json");
  std::ofstream(file) << R"({"negatives": [{"path": ")" << photo
                      << R"(", "kind": "stars"}, {"path": ")" << photo << R"("}]})";
  EXPECT_TRUE(load_real_photos(file, /*negatives=*/false).empty());
  const std::vector<RealPhoto> got = load_real_photos(file, true);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].negative);
  EXPECT_EQ(got[0].kind, "stars");
  EXPECT_EQ(got[1].kind, "");
  EXPECT_EQ(got[0].gray.channels(), 1);
  EXPECT_GT(got[0].gray.cols, 400);

  const std::string missing = dir.file("missing.json");
  std::ofstream(missing) << R"({"photos": [], "negatives": [{"path": "/nonexistent/x.jpg"}]})";
  try {
    load_real_photos(missing, true);
    ADD_FAILURE() << "a photo that is not there was read";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(missing + ": /nonexistent/x.jpg is not installed"), std::string::npos)
        << what;
    EXPECT_NE(what.find("scripts/deps.sh --bench"), std::string::npos) << what;
  }
}

// The report counts every detection on a digit-free photo as false, per kind and in all.
TEST(RealPhotos, DigitFreeTableCountsPerKind) {
  BenchV2Result r;
  const auto negative = [](const std::string& path, const std::string& kind, int64_t dets) {
    RealPhotoResult p;
    p.path = path;
    p.negative = true;
    p.kind = kind;
    p.det.detections = dets;
    return p;
  };
  r.real = {negative("/a/stars1.jpg", "stars", 3), negative("/a/stars2.jpg", "stars", 0),
            negative("/a/leaf.jpg", "foliage", 1), negative("/a/page.png", "", 0)};
  const std::string md = bench_v2_markdown(r, LocBenchSettings{});
  EXPECT_NE(md.find("| stars | 2 | 1 | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| foliage | 1 | 1 | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| (no kind given) | 1 | 0 | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **all** | 4 | 2 | 4 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| /a/stars1.jpg | stars | 3 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("/a/stars2.jpg"), std::string::npos) << md;  // no detection: not listed
}

}  // namespace
}  // namespace adgap
