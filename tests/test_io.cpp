// Atomic writes, the loss CSV and the loss-curve figure.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adgap/io/atomic_file.h"
#include "adgap/io/png_stream.h"
#include "adgap/report/csv.h"
#include "adgap/report/plot.h"
#include "adgap/util/progress.h"
#include "fixtures.h"

namespace adgap {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(AtomicWrite, FailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  test::TempDir dir;
  const std::string p = dir.file("x.txt");
  atomic_write_text(p, "old\n");
  EXPECT_THROW(atomic_write(p,
                            [](const std::string& tmp) {
                              std::ofstream(tmp) << "half";
                              throw std::runtime_error("disk full");
                            }),
               std::runtime_error);
  EXPECT_EQ(slurp(p), "old\n");
  EXPECT_EQ(count_files(dir.str()), 1u);
  atomic_write_text(dir.file("sub/dir/y.txt"), "new");  // parents are created
  EXPECT_EQ(slurp(dir.file("sub/dir/y.txt")), "new");
}

TEST(PngRowWriter, BandsDecodeToTheImageAndMisuseIsRefused) {
  test::TempDir dir;
  cv::Mat bgr(37, 23, CV_8UC3), gray(37, 23, CV_8U);
  cv::randu(bgr, 0, 256);
  cv::randu(gray, 0, 256);
  for (const cv::Mat& img : {bgr, gray}) {
    const std::string path = dir.file(img.channels() == 3 ? "c.png" : "g.png");
    {
      PngRowWriter w(path, img.cols, img.rows, img.channels());
      for (int y = 0; y < img.rows; y += 10) w.write(img.rowRange(y, std::min(img.rows, y + 10)));
      w.finish();
    }
    const cv::Mat back = cv::imread(path, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(back.size(), img.size());
    ASSERT_EQ(back.type(), img.type());
    EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0.0);
  }
  PngRowWriter w(dir.file("short.png"), 23, 37, 3);
  EXPECT_THROW(w.write(gray.rowRange(0, 5)), std::invalid_argument);  // wrong channels
  w.write(bgr.rowRange(0, 30));
  EXPECT_THROW(w.write(bgr.rowRange(0, 10)), std::invalid_argument);  // past the last row
  EXPECT_THROW(w.finish(), std::runtime_error);                       // 30 of 37 rows
  EXPECT_THROW(PngRowWriter(dir.file("no/such/dir.png"), 5, 5, 1), std::runtime_error);
  EXPECT_THROW(PngRowWriter(dir.file("x.png"), 5, 5, 2), std::invalid_argument);
}

TEST(LossCsv, OneRowPerUpdateWithEpochAndBatch) {
  test::TempDir dir;
  write_loss_csv(dir.file("l.csv"), {2.5f, 1.25f, 0.5f}, /*batches_per_epoch=*/2);
  EXPECT_EQ(slurp(dir.file("l.csv")),
            "epoch,batch,step,loss\n1,1,1,2.500000\n1,2,2,1.250000\n2,1,3,0.500000\n");
}

TEST(LossCurve, RendersAPngAndRejectsAnEmptyCurve) {
  test::TempDir dir;
  LossCurve c;
  for (int i = 0; i < 50; ++i) c.batch_losses.push_back(2.3f / (1 + i));
  c.batches_per_epoch = 10;
  c.epoch_test_acc = {0.9, 0.95, 0.97, 0.98, 0.99};
  plot_loss_curve(dir.file("l.png"), c);
  const cv::Mat img = cv::imread(dir.file("l.png"));
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 1200);
  EXPECT_EQ(img.rows, 700);
  // The curve is drawn: some pixels carry the per-batch colour's dominant blue channel.
  cv::Mat blueish;
  cv::inRange(img, cv::Scalar(200, 140, 80), cv::Scalar(255, 200, 140), blueish);
  EXPECT_GT(cv::countNonZero(blueish), 100);
  EXPECT_THROW(plot_loss_curve(dir.file("e.png"), LossCurve{}), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.png")));
}

TEST(Progress, OffATerminalWritesRareLinesAndAlwaysTheLast) {
  std::ostringstream log;  // not a terminal
  Progress p(&log, 1000, "images");
  for (int i = 1; i <= 999; ++i) p.update(i, "0 failed");
  EXPECT_EQ(log.str(), "");  // well under Progress::kQuietSeconds: nothing yet
  p.update(1000, "2 failed");
  p.finish();
  const std::string text = log.str();
  EXPECT_EQ(text.rfind("images  1000/1000  ", 0), 0u) << text;
  EXPECT_NE(text.find("/s  2 failed\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  std::ostringstream none;
  Progress off(&none, 10, "x", /*enabled=*/false);
  off.update(10);
  Progress quiet_end(&none, 10, "x", /*enabled=*/true, /*report_end=*/false);
  quiet_end.update(10);
  EXPECT_EQ(none.str(), "");
  EXPECT_EQ(Progress::duration_text(42.4), "42 s");
  EXPECT_EQ(Progress::duration_text(200), "3 min 20 s");
  EXPECT_EQ(Progress::duration_text(7260), "2 h 1 min");
}

}  // namespace
}  // namespace adgap
