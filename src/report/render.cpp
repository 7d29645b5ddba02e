#include "adgap/report/render.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "adgap/io/png.h"

namespace adgap {

namespace {
cv::Mat as_bgr(const cv::Mat& photo) {
  if (photo.channels() == 3) return photo.clone();
  cv::Mat out;
  cv::cvtColor(photo, out, cv::COLOR_GRAY2BGR);
  return out;
}
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
}  // namespace

cv::Mat overlay_heatmap(const cv::Mat& photo, const cv::Mat& h01, double alpha) {
  cv::Mat u8, color, out;
  h01.convertTo(u8, CV_8U, 255.0);
  cv::applyColorMap(u8, color, cv::COLORMAP_JET);
  cv::addWeighted(as_bgr(photo), 1.0 - alpha, color, alpha, 0.0, out);
  return out;
}

cv::Mat draw_detections(const cv::Mat& photo, const std::vector<Detection>& dets) {
  cv::Mat out = as_bgr(photo);
  const int thick = std::max(1, std::min(out.cols, out.rows) / 300);
  const double scale = std::max(0.4, std::min(out.cols, out.rows) / 800.0);
  for (const Detection& d : dets) {
    cv::rectangle(out, d.box, cv::Scalar(0, 255, 0), thick);
    char text[32];
    std::snprintf(text, sizeof text, "%d %.2f", d.label, d.score);
    int base = 0;
    const cv::Size ts = cv::getTextSize(text, kFont, scale, thick, &base);
    const cv::Point at(d.box.x, std::max(ts.height + 2, d.box.y - 3));
    cv::rectangle(out, {at.x, at.y - ts.height - 2}, {at.x + ts.width + 2, at.y + base},
                  cv::Scalar(0, 255, 0), cv::FILLED);
    cv::putText(out, text, {at.x + 1, at.y}, kFont, scale, cv::Scalar(0, 0, 0), thick, cv::LINE_AA);
  }
  return out;
}

cv::Mat to_u16(const cv::Mat& h01) {
  cv::Mat out;
  h01.convertTo(out, CV_16U, 65535.0);
  return out;
}

void plot_bars(const std::string& path, const std::vector<double>& values, const std::string& title,
               const std::string& xlabel, const std::string& ylabel) {
  constexpr int kW = 900, kH = 480, kLeft = 90, kRight = 30, kTop = 60, kBottom = 70;
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(255, 255, 255));
  const int pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  double lo = 0, hi = 0;
  for (double v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (hi == lo) hi = lo + 1;
  auto py = [&](double v) { return kTop + static_cast<int>(ph * (hi - v) / (hi - lo)); };
  const cv::Scalar ink(40, 40, 40), pos(180, 110, 40), neg(60, 60, 200), grid(225, 225, 225);
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    cv::line(img, {kLeft, py(v)}, {kLeft + pw, py(v)}, grid, 1);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    cv::putText(img, buf, {8, py(v) + 5}, kFont, 0.45, ink, 1, cv::LINE_AA);
  }
  const int n = static_cast<int>(values.size());
  const int bw = n ? pw / n : pw;
  for (int i = 0; i < n; ++i) {
    const int x = kLeft + i * bw + bw / 6, y0 = py(0), y1 = py(values[i]);
    cv::rectangle(img, {x, std::min(y0, y1)}, {x + bw * 2 / 3, std::max(y0, y1)},
                  values[i] >= 0 ? pos : neg, cv::FILLED);
    cv::putText(img, std::to_string(i), {x + bw / 6, kTop + ph + 20}, kFont, 0.45, ink, 1,
                cv::LINE_AA);
  }
  cv::line(img, {kLeft, py(0)}, {kLeft + pw, py(0)}, ink, 1);
  cv::putText(img, title, {kLeft, 35}, kFont, 0.6, ink, 1, cv::LINE_AA);
  cv::putText(img, xlabel, {kLeft + pw / 2 - 60, kH - 20}, kFont, 0.5, ink, 1, cv::LINE_AA);
  cv::putText(img, ylabel, {kLeft, kTop - 8}, kFont, 0.45, ink, 1, cv::LINE_AA);
  write_png_atomic(path, img);
}

}  // namespace adgap
