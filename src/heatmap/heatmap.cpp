#include "adgap/heatmap/heatmap.h"

#include "adgap/heatmap/paper_kernel.h"
#include "adgap/util/threads.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <stdexcept>

namespace adgap {

MapMode parse_map_mode(const std::string& s) {
  if (s == "paper") return MapMode::kPaper;
  if (s == "pooled") return MapMode::kPooled;
  if (s == "dense") return MapMode::kDense;
  throw std::invalid_argument("map mode '" + s + "' is not one of paper, pooled, dense");
}

Polarity parse_polarity(const std::string& s) {
  if (s == "auto") return Polarity::kAuto;
  if (s == "light-on-dark") return Polarity::kLightOnDark;
  if (s == "dark-on-light") return Polarity::kDarkOnLight;
  if (s == "both") return Polarity::kBoth;
  throw std::invalid_argument("polarity '" + s +
                              "' is not one of auto, light-on-dark, dark-on-light, both");
}

std::string to_string(MapMode m) {
  return m == MapMode::kPaper ? "paper" : m == MapMode::kPooled ? "pooled" : "dense";
}

std::string to_string(Polarity p) {
  switch (p) {
    case Polarity::kAuto:
      return "auto";
    case Polarity::kLightOnDark:
      return "light-on-dark";
    case Polarity::kDarkOnLight:
      return "dark-on-light";
    case Polarity::kBoth:
      return "both";
  }
  return "?";
}

at::Tensor trunk_maps(LeNet& net, const at::Tensor& x, MapMode mode) {
  if (mode == MapMode::kPaper) return net->trunk(x, TrunkMode::kUnpooled);  // (N, 16, H, W)
  if (mode == MapMode::kPooled) return net->trunk(x, TrunkMode::kPooled);   // (N, 16, H/4, W/4)
  TORCH_CHECK(x.dim() == 4 && x.size(1) == net->options().in_channels,
              "trunk_maps: expected (N, C, H, W), got ", x.sizes());
  // Dense: stride-1 pools; conv2 dilated by 2 to see what it sees after a stride-2 pool.
  // Post-ReLU values are >= 0, so zero padding before a max-pool changes nothing inside.
  at::Tensor c1 = at::relu(net->conv1->forward(x));  // (N, 6, H, W)
  at::Tensor m1 =
      at::max_pool2d(at::constant_pad_nd(c1, {0, 1, 0, 1}), {2, 2}, {1, 1});  // (N, 6, H, W)
  at::Tensor c2 = at::relu(at::conv2d(m1, net->conv2->weight, net->conv2->bias, /*stride=*/{1, 1},
                                      /*padding=*/{4, 4}, /*dilation=*/{2, 2}));  // (N, 16, H, W)
  return at::max_pool2d(at::constant_pad_nd(c2, {0, 2, 0, 2}), {2, 2}, /*stride=*/{1, 1},
                        /*padding=*/{0, 0}, /*dilation=*/{2, 2});  // (N, 16, H, W)
}

at::Tensor network_input(const cv::Mat& gray, bool invert, double scale, double offset) {
  cv::Mat src = gray.isContinuous() ? gray : gray.clone();
  at::Tensor x = at::from_blob(src.data, {1, 1, src.rows, src.cols}, at::kByte).to(at::kFloat);
  if (invert) x = 255.0f - x;
  return x * scale + offset;
}

at::Tensor pad_to_4(const at::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  return at::constant_pad_nd(x, {0, (4 - w % 4) % 4, 0, (4 - h % 4) % 4});
}

cv::Mat upsample_quarter(const at::Tensor& small, int h, int w) {
  const at::Tensor s = small.to(at::kFloat).contiguous();
  const cv::Mat m(static_cast<int>(s.size(0)), static_cast<int>(s.size(1)), CV_32F,
                  const_cast<float*>(s.data_ptr<float>()));
  cv::Mat up;
  cv::resize(m, up, cv::Size(m.cols * 4, m.rows * 4), 0, 0, cv::INTER_LINEAR);
  return up(cv::Rect(0, 0, w, h)).clone();
}

namespace {

// Pixels of context a tile needs on each side for its interior to be exact (multiple of 4 so
// pooled tiles keep the pooling grid).
int64_t halo(MapMode m) { return m == MapMode::kPaper ? 4 : m == MapMode::kPooled ? 16 : 12; }

// Weighted map of one crop (h, w) as CV_32F aligned with the crop's pixels; paper mode by
// adgap's own kernel when `own` is given.
cv::Mat crop_map(LeNet& net, const cv::Mat& crop_u8, bool invert, const at::Tensor& w,
                 const HeatmapConfig& cfg, const PaperKernelWeights* own) {
  if (own) return paper_map(*own, crop_u8, invert, cfg.input_scale, cfg.input_offset);
  const int h = crop_u8.rows, wd = crop_u8.cols;
  at::Tensor x = network_input(crop_u8, invert, cfg.input_scale, cfg.input_offset);
  if (cfg.mode == MapMode::kPooled) {
    const at::Tensor small = (trunk_maps(net, pad_to_4(x), MapMode::kPooled)[0] * w).sum(0);
    return upsample_quarter(small, h, wd);
  }
  at::Tensor f = trunk_maps(net, x, cfg.mode)[0];  // (16, h, w)
  at::Tensor m = (f * w).sum(0);                   // (h, w)
  if (cfg.mode == MapMode::kDense) {
    // D[t] describes the window centred near t + 1.5: shift by 2 px to centre it.
    m = at::constant_pad_nd(m, {2, 0, 2, 0}).narrow(0, 0, h).narrow(1, 0, wd);
  }
  m = m.contiguous();
  return cv::Mat(h, wd, CV_32F, m.data_ptr<float>()).clone();
}

}  // namespace

Polarity resolve_polarity(const cv::Mat& gray, Polarity p) {
  if (p != Polarity::kAuto) return p;
  // Strokes are thin and in the minority: against the local background (a blur) they stand
  // out as a long tail of dark residuals (dark on light) or of bright ones (light on dark).
  // The sign of the residuals' third moment tells which; it ignores uneven lighting.
  cv::Mat g;
  const double scale = std::min(1.0, 1024.0 / std::max(gray.cols, gray.rows));
  if (scale < 1) {
    cv::resize(gray, g, cv::Size(), scale, scale, cv::INTER_AREA);
  } else {
    g = gray;
  }
  cv::Mat f, blur;
  g.convertTo(f, CV_32F);
  cv::GaussianBlur(f, blur, cv::Size(0, 0), /*sigma=*/8.0);
  cv::Mat r = f - blur;
  cv::Mat r3 = r.mul(r).mul(r);
  return cv::sum(r3)[0] < 0 ? Polarity::kDarkOnLight : Polarity::kLightOnDark;
}

cv::Mat raw_heatmap(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                    const HeatmapConfig& cfg) {
  if (gray.empty() || gray.type() != CV_8UC1) {
    throw std::invalid_argument("raw_heatmap: expected a non-empty 8-bit grayscale image");
  }
  if (static_cast<int64_t>(weights.size()) != net->trunk_channels()) {
    throw std::invalid_argument("raw_heatmap: need " + std::to_string(net->trunk_channels()) +
                                " weights, got " + std::to_string(weights.size()));
  }
  if (cfg.tile < 0) throw std::invalid_argument("raw_heatmap: tile must be >= 0");
  const Polarity pol = resolve_polarity(gray, cfg.polarity);
  at::Tensor w = at::tensor(weights).view({net->trunk_channels(), 1, 1});
  at::NoGradGuard no_grad;
  const EvalModeGuard eval_mode(net);
  PaperKernelWeights own_weights;
  const PaperKernelWeights* own = nullptr;
  if (cfg.mode == MapMode::kPaper && !cfg.reference && own_kernels_enabled() &&
      paper_kernel_supports(net)) {
    own_weights = PaperKernelWeights::from(net, weights);
    own = &own_weights;
  }

  cv::Mat out(gray.size(), CV_32F);
  const int tile = cfg.tile > 0 ? static_cast<int>(cfg.tile / 4 * 4 + (cfg.tile < 4 ? 4 : 0))
                                : std::max(gray.rows, gray.cols);
  const int hal = static_cast<int>(halo(cfg.mode));
  const bool replicate = cfg.border == Border::kReplicate;
  const cv::Rect image(0, 0, gray.cols, gray.rows);
  for (int y0 = 0; y0 < gray.rows; y0 += tile) {
    for (int x0 = 0; x0 < gray.cols; x0 += tile) {
      const cv::Rect inner(x0, y0, std::min(tile, gray.cols - x0), std::min(tile, gray.rows - y0));
      // The tile with its halo; beyond the image it is either cut (the network then sees its
      // own zero padding) or filled by replicating the image's edge.
      const cv::Rect grown(x0 - hal, y0 - hal, inner.width + 2 * hal, inner.height + 2 * hal);
      const cv::Rect crop = replicate ? grown : grown & image;
      cv::Mat patch = gray(crop & image);
      if (replicate) {
        const cv::Rect in = crop & image;
        cv::copyMakeBorder(patch, patch, in.y - crop.y, crop.br().y - in.br().y, in.x - crop.x,
                           crop.br().x - in.br().x, cv::BORDER_REPLICATE);
      }
      cv::Mat m;
      if (pol == Polarity::kBoth) {
        m = cv::max(crop_map(net, patch, false, w, cfg, own),
                    crop_map(net, patch, true, w, cfg, own));
      } else {
        m = crop_map(net, patch, pol == Polarity::kDarkOnLight, w, cfg, own);
      }
      m(cv::Rect(inner.x - crop.x, inner.y - crop.y, inner.width, inner.height)).copyTo(out(inner));
    }
  }
  return out;
}

void normalize_min_max(cv::Mat& h) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(h, &lo, &hi);
  if (hi > lo) {
    h.convertTo(h, CV_32F, 1.0 / (hi - lo), -lo / (hi - lo));
    // Rounding in the affine map can stray by an ulp; the result must be exactly in [0, 1].
    cv::max(h, 0.0, h);
    cv::min(h, 1.0, h);
  } else {
    h.setTo(0);
  }
}

cv::Mat heatmap(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                const HeatmapConfig& cfg) {
  cv::Mat h = raw_heatmap(net, gray, weights, cfg);
  normalize_min_max(h);
  return h;
}

}  // namespace adgap
