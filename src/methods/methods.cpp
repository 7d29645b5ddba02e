#include "adgap/methods/methods.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <stdexcept>

namespace adgap {

namespace {

const std::vector<std::pair<Method, const char*>>& names() {
  static const std::vector<std::pair<Method, const char*>> n = {
      {Method::kAdgap, "adgap"},
      {Method::kAdgapPaper, "adgap-paper"},
      {Method::kCam, "cam"},
      {Method::kGradCam, "grad-cam"},
      {Method::kGradCamPP, "grad-cam++"},
      {Method::kAblationCam, "ablation-cam"},
      {Method::kScoreCam, "score-cam"},
      {Method::kMeanActivation, "mean-activation"},
      {Method::kCcGap, "ccgap"},
      {Method::kUniform, "uniform"},
      {Method::kSobel, "sobel"},
      {Method::kMser, "mser"}};
  return n;
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// The network inputs the polarity asks for: one image, or the image and its inverse.
std::vector<at::Tensor> inputs(const cv::Mat& gray, const HeatmapConfig& cfg) {
  const Polarity p = resolve_polarity(gray, cfg.polarity);
  std::vector<at::Tensor> out;
  if (p != Polarity::kDarkOnLight)
    out.push_back(network_input(gray, false, cfg.input_scale, cfg.input_offset));
  if (p != Polarity::kLightOnDark)
    out.push_back(network_input(gray, true, cfg.input_scale, cfg.input_offset));
  return out;
}

// Per-class image scores from pooled maps: (C) sum over windows of softmax probabilities.
at::Tensor class_scores(LeNet& net, const at::Tensor& maps) {
  return at::softmax(dense_head(net, maps), /*dim=*/1).sum({0, 2, 3});
}

// relu(sum_k a[c][k] F_k) for every class c, fused by the pixel-wise max: (h4, w4).
at::Tensor fused_cam(const at::Tensor& a /* (C, 16) */, const at::Tensor& f /* (16, h, w) */) {
  const at::Tensor maps = at::relu(at::einsum("ck,khw->chw", {a, f}));
  return std::get<0>(maps.max(0));
}

// Grad-CAM (plus = false) or Grad-CAM++ weights (C, 16) for pooled maps f (1, 16, h, w).
at::Tensor gradcam_weights(LeNet& net, const at::Tensor& f, bool plus) {
  const at::Tensor leaf = f.detach().requires_grad_();
  const at::Tensor scores = class_scores(net, leaf);  // (C)
  std::vector<at::Tensor> rows;
  for (int64_t c = 0; c < scores.size(0); ++c) {
    const at::Tensor g =
        torch::autograd::grad({scores[c]}, {leaf}, {}, /*retain_graph=*/true)[0][0];  // (16, h, w)
    if (!plus) {
      rows.push_back(g.mean({1, 2}));
      continue;
    }
    // Grad-CAM++ with the usual exponential-score approximation of the higher derivatives.
    const at::Tensor g2 = g.pow(2), g3 = g.pow(3);
    const at::Tensor denom = 2 * g2 + (leaf.detach()[0] * g3).sum({1, 2}, /*keepdim=*/true);
    const at::Tensor alpha = g2 / at::where(denom != 0, denom, at::ones_like(denom));
    rows.push_back((alpha * at::relu(g)).sum({1, 2}));
  }
  return at::stack(rows);  // (C, 16)
}

// Ablation-CAM weights (C, 16): relative score drop when filter k is zeroed over the image.
at::Tensor ablation_weights(LeNet& net, const at::Tensor& f) {
  const int64_t k = f.size(1);
  at::Tensor blocked = f.repeat({k, 1, 1, 1});  // (16, 16, h, w)
  for (int64_t i = 0; i < k; ++i) blocked[i][i].zero_();
  const at::Tensor base = class_scores(net, f);                                  // (C)
  const at::Tensor each = at::softmax(dense_head(net, blocked), 1).sum({2, 3});  // (16, C)
  return ((base.unsqueeze(0) - each) / base.clamp_min(1e-12).unsqueeze(0)).t();  // (C, 16)
}

// Score-CAM weights (C, 16): softmax over k of the class score of the input masked by F_k.
at::Tensor scorecam_weights(LeNet& net, const at::Tensor& x, const at::Tensor& f) {
  const int64_t k = f.size(1), h = x.size(2), w = x.size(3);
  std::vector<at::Tensor> scores;
  for (int64_t i = 0; i < k; ++i) {
    const cv::Mat up = upsample_quarter(f[0][i], static_cast<int>(h), static_cast<int>(w));
    at::Tensor m =
        at::from_blob(const_cast<float*>(up.ptr<float>()), {1, 1, h, w}, at::kFloat).clone();
    const float lo = m.min().item<float>(), hi = m.max().item<float>();
    m = hi > lo ? (m - lo) / (hi - lo) : at::zeros_like(m);
    const at::Tensor masked = net->trunk(pad_to_4(x * m), TrunkMode::kPooled);
    scores.push_back(at::softmax(dense_head(net, masked), 1).mean({0, 2, 3}));  // (C)
  }
  return at::softmax(at::stack(scores, 1), /*dim=*/1);  // (C, 16)
}

cv::Mat network_cam(Method m, LeNet& net, const FilterImportance& imp, const cv::Mat& gray,
                    const HeatmapConfig& cfg) {
  cv::Mat fused;
  for (const at::Tensor& x : inputs(gray, cfg)) {
    const at::Tensor f = net->trunk(pad_to_4(x), TrunkMode::kPooled);  // (1, 16, h4, w4)
    at::Tensor a;
    {
      at::NoGradGuard no_grad;
      if (m == Method::kCam) {
        if (imp.cam_weights.empty())
          throw std::runtime_error(
              "cam: the weights file holds no CAM classifier (made by `adgap weights --cam`)");
        std::vector<float> flat;
        for (const auto& row : imp.cam_weights) flat.insert(flat.end(), row.begin(), row.end());
        a = at::tensor(flat).view({static_cast<int64_t>(imp.cam_weights.size()), -1});
      } else if (m == Method::kAblationCam) {
        a = ablation_weights(net, f);
      } else if (m == Method::kScoreCam) {
        a = scorecam_weights(net, x, f);
      }
    }
    if (m == Method::kGradCam || m == Method::kGradCamPP)
      a = gradcam_weights(net, f, m == Method::kGradCamPP);
    at::NoGradGuard no_grad;
    const cv::Mat map = upsample_quarter(fused_cam(a, f.detach()[0]), gray.rows, gray.cols);
    fused = fused.empty() ? map : cv::max(fused, map);
  }
  return fused;
}

cv::Mat sobel_map(const cv::Mat& gray) {
  cv::Mat f, gx, gy, mag;
  gray.convertTo(f, CV_32F, 1.0 / 255);
  cv::GaussianBlur(f, f, cv::Size(0, 0), 1.0);
  cv::Sobel(f, gx, CV_32F, 1, 0);
  cv::Sobel(f, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, mag);
  return mag;
}

cv::Mat mser_map(const cv::Mat& gray) {
  std::vector<std::vector<cv::Point>> regions;
  std::vector<cv::Rect> boxes;
  cv::MSER::create()->detectRegions(gray, regions, boxes);
  cv::Mat count = cv::Mat::zeros(gray.size(), CV_32F);
  const double max_area = 0.25 * gray.total();  // larger regions are background, not marks
  for (const auto& r : regions) {
    if (static_cast<double>(r.size()) > max_area) continue;
    for (const cv::Point& p : r) count.at<float>(p) += 1.0f;
  }
  return count;
}

}  // namespace

Method parse_method(const std::string& s) {
  for (const auto& [m, n] : names()) {
    if (s == n) return m;
  }
  std::string all;
  for (const auto& [m, n] : names()) all += std::string(all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("method '" + s + "' is not one of " + all);
}

std::string to_string(Method m) {
  for (const auto& [k, n] : names()) {
    if (k == m) return n;
  }
  return "?";
}

const std::vector<Method>& all_methods() {
  static const std::vector<Method> v = [] {
    std::vector<Method> out;
    for (const auto& [m, n] : names()) out.push_back(m);
    return out;
  }();
  return v;
}

at::Tensor dense_head(LeNet& net, const at::Tensor& maps) {
  const int64_t s = net->head_map_size();
  const at::Tensor x = at::constant_pad_nd(
      maps, {0, std::max<int64_t>(0, s - maps.size(3)), 0, std::max<int64_t>(0, s - maps.size(2))});
  const int64_t c1 = net->fc1->weight.size(0);
  at::Tensor h =
      at::relu(at::conv2d(x, net->fc1->weight.view({c1, net->trunk_channels(), s, s}),
                          net->fc1->bias));  // (N, 120, h-6, w-6)
  h = at::relu(
      at::conv2d(h, net->fc2->weight.unsqueeze(2).unsqueeze(3), net->fc2->bias));    // (N, 84, ..)
  return at::conv2d(h, net->fc3->weight.unsqueeze(2).unsqueeze(3), net->fc3->bias);  // (N, C, ..)
}

cv::Mat method_map(Method m, LeNet& net, const FilterImportance& imp, const cv::Mat& gray,
                   const HeatmapConfig& cfg) {
  const EvalModeGuard eval_mode(net);
  cv::Mat h;
  switch (m) {
    case Method::kAdgap:
      h = raw_heatmap(net, gray, imp.weights(), cfg);
      break;
    case Method::kAdgapPaper: {
      HeatmapConfig paper = cfg;
      paper.mode = MapMode::kPaper;
      paper.border = Border::kZero;
      h = raw_heatmap(net, gray, imp.weights(), paper);
      break;
    }
    case Method::kMeanActivation:
      h = raw_heatmap(net, gray, to_float(imp.mean_activation), cfg);
      break;
    case Method::kCcGap:
      h = raw_heatmap(net, gray, to_float(imp.ccgap), cfg);
      break;
    case Method::kUniform:
      h = raw_heatmap(net, gray, std::vector<float>(16, 1.0f), cfg);
      break;
    case Method::kSobel:
      h = sobel_map(gray);
      break;
    case Method::kMser:
      h = mser_map(gray);
      break;
    default:
      h = network_cam(m, net, imp, gray, cfg);
  }
  normalize_min_max(h);
  return h;
}

}  // namespace adgap
