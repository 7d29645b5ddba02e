#include "adgap/report/plot.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "adgap/io/png.h"

namespace adgap {

namespace {

constexpr int kWidth = 1200, kHeight = 700;                       // pixels
constexpr int kLeft = 100, kRight = 40, kTop = 60, kBottom = 80;  // plot-area margins
const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225), kBatch(230, 170, 110), kMean(40, 80, 200),
    kEpoch(160, 160, 160);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.5,
          cv::Scalar color = kInk, int align = -1 /* -1 left, 0 centre, 1 right */) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFont, scale, 1, &base);
  at.x -= align == 0 ? sz.width / 2 : align == 1 ? sz.width : 0;
  cv::putText(img, s, at, kFont, scale, color, 1, cv::LINE_AA);
}

}  // namespace

void plot_loss_curve(const std::string& path, const LossCurve& c) {
  if (c.batch_losses.empty()) throw std::runtime_error(path + ": no losses to plot");
  const int64_t n = static_cast<int64_t>(c.batch_losses.size());
  const int64_t bpe = std::max<int64_t>(1, c.batches_per_epoch);
  // Log-scale y range spanning whole decades around the data.
  float lo = *std::min_element(c.batch_losses.begin(), c.batch_losses.end());
  float hi = *std::max_element(c.batch_losses.begin(), c.batch_losses.end());
  lo = std::max(lo, 1e-4f);
  hi = std::max(hi, lo * 10);
  const double d0 = std::floor(std::log10(lo)), d1 = std::ceil(std::log10(hi));
  const int pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double step) {
    return kLeft + static_cast<int>(pw * step / std::max<int64_t>(1, n));
  };
  auto py = [&](double loss) {
    const double v = (std::log10(std::max<double>(loss, 1e-4)) - d0) / (d1 - d0);
    return kTop + static_cast<int>(ph * (1 - v));
  };

  cv::Mat img(kHeight, kWidth, CV_8UC3, cv::Scalar(255, 255, 255));
  // Grid and y ticks at 1, 2, 5 per decade.
  for (double d = d0; d <= d1; ++d) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, d);
      if (std::log10(v) > d1 + 1e-9) break;
      const int y = py(v);
      cv::line(img, {kLeft, y}, {kLeft + pw, y}, kGrid, 1);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      text(img, buf, {kLeft - 8, y + 5}, 0.45, kInk, 1);
    }
  }
  // Epoch boundaries, labels and test accuracy.
  const int64_t epochs = (n + bpe - 1) / bpe;
  for (int64_t e = 0; e <= epochs; ++e) {
    const int x = px(static_cast<double>(std::min(e * bpe, n)));
    cv::line(img, {x, kTop}, {x, kTop + ph}, kEpoch, 1, cv::LINE_AA);
    if (e < epochs) {
      const int xm = px((e + 0.5) * bpe);
      text(img, std::to_string(e + 1), {xm, kTop + ph + 22}, 0.5, kInk, 0);
      if (e < static_cast<int64_t>(c.epoch_test_acc.size()) && c.epoch_test_acc[e] >= 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f%%", 100 * c.epoch_test_acc[e]);
        text(img, buf, {xm, kTop + 16}, 0.4, kMean, 0);
      }
    }
  }
  // Per-batch loss, then per-epoch mean on top.
  std::vector<cv::Point> pts;
  for (int64_t t = 0; t < n; ++t) pts.emplace_back(px(t + 0.5), py(c.batch_losses[t]));
  cv::polylines(img, pts, false, kBatch, 1, cv::LINE_AA);
  std::vector<cv::Point> means;
  for (int64_t e = 0; e < epochs; ++e) {
    const int64_t b = e * bpe, end = std::min(n, b + bpe);
    double s = 0;
    for (int64_t t = b; t < end; ++t) s += c.batch_losses[t];
    means.emplace_back(px((b + end) / 2.0), py(s / (end - b)));
  }
  cv::polylines(img, means, false, kMean, 2, cv::LINE_AA);
  for (const cv::Point& p : means) cv::circle(img, p, 5, kMean, cv::FILLED, cv::LINE_AA);
  cv::rectangle(img, {kLeft, kTop}, {kLeft + pw, kTop + ph}, kInk, 1);

  // Labels and legend.
  text(img, c.title, {kWidth / 2, 35}, 0.75, kInk, 0);
  text(img,
       "epoch (" + std::to_string(bpe) + " updates each; " + std::to_string(n) + " updates in all)",
       {kLeft + pw / 2, kHeight - 25}, 0.55, kInk, 0);
  cv::Mat ylabel(30, ph, CV_8UC3, cv::Scalar(255, 255, 255));
  text(ylabel, "training NLL loss (log scale)", {ph / 2, 21}, 0.55, kInk, 0);
  cv::rotate(ylabel, ylabel, cv::ROTATE_90_COUNTERCLOCKWISE);
  ylabel.copyTo(img(cv::Rect(12, kTop, 30, ph)));
  const int lx = kLeft + pw - 300, ly = kTop + ph - 60;
  cv::rectangle(img, {lx - 10, ly - 18}, {lx + 290, ly + 40}, cv::Scalar(255, 255, 255),
                cv::FILLED);
  cv::rectangle(img, {lx - 10, ly - 18}, {lx + 290, ly + 40}, kEpoch, 1);
  cv::line(img, {lx, ly - 5}, {lx + 30, ly - 5}, kBatch, 1, cv::LINE_AA);
  text(img, "loss of each batch", {lx + 40, ly}, 0.45);
  cv::line(img, {lx, ly + 20}, {lx + 30, ly + 20}, kMean, 2, cv::LINE_AA);
  cv::circle(img, {lx + 15, ly + 20}, 5, kMean, cv::FILLED, cv::LINE_AA);
  text(img, "epoch mean; top: test accuracy", {lx + 40, ly + 25}, 0.45);
  write_png_atomic(path, img);
}

}  // namespace adgap
