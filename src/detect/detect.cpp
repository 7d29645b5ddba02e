#include "adgap/detect/detect.h"
#include "adgap/detect/numbers.h"

#include <ATen/ATen.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <functional>

#include "adgap/model/lenet.h"
#include "adgap/model/trunk_kernel.h"

namespace adgap {

namespace {

constexpr int kBox = 20;   // MNIST digits fit a 20x20 box ...
constexpr int kSide = 28;  // ... centred by mass in 28x28

// Groups mask pixels into candidate boxes: fragments within `gap` px of each other merge.
// Each box is the extent of the original mask pixels of one group.
std::vector<cv::Rect> group_hotspots(const cv::Mat& mask, int gap) {
  cv::Mat grown = mask;
  if (gap > 0) {
    cv::dilate(mask, grown, cv::getStructuringElement(cv::MORPH_RECT, {2 * gap + 1, 2 * gap + 1}));
  }
  cv::Mat labels;
  const int n = cv::connectedComponents(grown, labels, 8, CV_32S);
  std::vector<int> x0(n, INT32_MAX), y0(n, INT32_MAX), x1(n, -1), y1(n, -1);
  for (int y = 0; y < mask.rows; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (!m[x]) continue;
      const int k = l[x];
      x0[k] = std::min(x0[k], x);
      x1[k] = std::max(x1[k], x);
      y0[k] = std::min(y0[k], y);
      y1[k] = std::max(y1[k], y);
    }
  }
  std::vector<cv::Rect> boxes;
  for (int k = 1; k < n; ++k) {
    if (x1[k] >= 0) boxes.emplace_back(x0[k], y0[k], x1[k] - x0[k] + 1, y1[k] - y0[k] + 1);
  }
  return boxes;
}

}  // namespace

bool mnist_normalize(const cv::Mat& crop, bool invert, cv::Mat& out28, cv::Rect* ink) {
  CV_Assert(crop.type() == CV_8UC1 && !crop.empty());
  cv::Mat g = invert ? 255 - crop : crop.clone();
  // Background = the crop's median level; keep what stands above it, zero the rest (Otsu).
  cv::Mat flat = g.reshape(1, 1).clone();
  std::nth_element(flat.begin<uint8_t>(), flat.begin<uint8_t>() + flat.cols / 2,
                   flat.end<uint8_t>());
  const int bg = flat.at<uint8_t>(flat.cols / 2);
  cv::Mat fg;
  cv::subtract(g, cv::Scalar(bg), fg);  // saturates at 0
  double hi = 0;
  cv::minMaxLoc(fg, nullptr, &hi);
  if (hi < 8) return false;  // no strokes: nearly flat crop
  cv::Mat bin;
  const double t = cv::threshold(fg, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  cv::threshold(fg, fg, t, 0, cv::THRESH_TOZERO);
  const cv::Rect box = cv::boundingRect(fg);
  if (box.area() == 0) return false;
  if (ink) *ink = box;
  // Fit the strokes into 20x20 keeping the aspect ratio, stretch contrast to full range.
  cv::Mat digit;
  fg(box).convertTo(digit, CV_32F, 1.0 / std::max(hi, 1.0));
  const double scale = static_cast<double>(kBox) / std::max(box.width, box.height);
  const cv::Size sz(std::max(1, static_cast<int>(std::lround(box.width * scale))),
                    std::max(1, static_cast<int>(std::lround(box.height * scale))));
  cv::resize(digit, digit, sz, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  double mx = 0;
  cv::minMaxLoc(digit, nullptr, &mx);
  if (mx > 0) digit /= mx;
  // Centre of mass to the centre of the 28x28 canvas.
  const cv::Moments m = cv::moments(digit);
  const double cx = m.m00 > 0 ? m.m10 / m.m00 : sz.width / 2.0;
  const double cy = m.m00 > 0 ? m.m01 / m.m00 : sz.height / 2.0;
  const int ox = std::clamp(static_cast<int>(std::lround(kSide / 2.0 - cx)), 0, kSide - sz.width);
  const int oy = std::clamp(static_cast<int>(std::lround(kSide / 2.0 - cy)), 0, kSide - sz.height);
  out28 = cv::Mat::zeros(kSide, kSide, CV_32F);
  digit.copyTo(out28(cv::Rect(ox, oy, sz.width, sz.height)));
  return true;
}

DetectOutput detect_digits(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                           const DetectConfig& cfg) {
  return detect_in_map(net, gray, heatmap(net, gray, weights, cfg.heatmap), cfg);
}

std::vector<Detection> non_max_suppression(std::vector<Detection> dets, double max_iou) {
  std::stable_sort(dets.begin(), dets.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : dets) {
    bool clash = false;
    for (const Detection& k : kept) {
      const double inter = (d.box & k.box).area();
      const double uni = double(d.box.area()) + k.box.area() - inter;
      // Overlap by IoU, or one box mostly inside the other (a fragment of a larger digit).
      clash |=
          uni > 0 && (inter / uni > max_iou || inter >= 0.7 * std::min(d.box.area(), k.box.area()));
    }
    if (!clash) kept.push_back(d);
  }
  return kept;
}

bool pyramid_level(const cv::Mat& gray, double scale, cv::Mat& level) {
  if (scale == 1.0) {
    level = gray;
    return true;
  }
  const cv::Size sz(static_cast<int>(std::lround(gray.cols * scale)),
                    static_cast<int>(std::lround(gray.rows * scale)));
  if (sz.width < 28 || sz.height < 28) return false;
  cv::resize(gray, level, sz, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return true;
}

cv::Rect unscale_box(const cv::Rect& b, double scale) {
  return {static_cast<int>(std::lround(b.x / scale)), static_cast<int>(std::lround(b.y / scale)),
          static_cast<int>(std::lround(b.width / scale)),
          static_cast<int>(std::lround(b.height / scale))};
}

std::vector<Detection> detect_multiscale(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                         const DetectConfig& cfg, const std::vector<double>& scales,
                                         std::vector<cv::Rect>* candidates) {
  std::vector<Detection> all;
  for (double s : scales) {
    cv::Mat g;
    if (!pyramid_level(gray, s, g)) continue;
    const DetectOutput d = detect_in_map(net, g, map_of(g), cfg);
    if (candidates) {
      for (const cv::Rect& c : d.candidates) candidates->push_back(unscale_box(c, s));
    }
    for (Detection det : d.detections) {
      det.box = unscale_box(det.box, s) & cv::Rect(0, 0, gray.cols, gray.rows);
      all.push_back(det);
    }
  }
  return non_max_suppression(all, 0.3);
}

std::vector<Candidate> extract_candidates(const cv::Mat& gray, const cv::Mat& h01,
                                          const DetectConfig& cfg, DetectOutput* out) {
  const double t = threshold_value(h01, cfg.threshold);
  cv::Mat mask = threshold_mask(h01, t);
  const cv::Rect image(0, 0, gray.cols, gray.rows);
  std::vector<Candidate> cands;
  for (const cv::Rect& r : group_hotspots(mask, cfg.merge_gap)) {
    if (r.width < cfg.min_size && r.height < cfg.min_size) continue;
    if (r.width > cfg.max_fraction * gray.cols || r.height > cfg.max_fraction * gray.rows) continue;
    // Crop with a margin, strokes made bright, normalised like an MNIST digit.
    const int m = static_cast<int>(std::lround(cfg.margin * std::max(r.width, r.height)));
    const cv::Rect crop = cv::Rect(r.x - m, r.y - m, r.width + 2 * m, r.height + 2 * m) & image;
    const cv::Mat patch = gray(crop);
    Polarity pol = cfg.heatmap.polarity;
    if (pol == Polarity::kAuto || pol == Polarity::kBoth) {
      pol = resolve_polarity(patch, Polarity::kAuto);
    }
    Candidate c;
    cv::Rect ink;
    if (!mnist_normalize(patch, pol == Polarity::kDarkOnLight, c.digit, &ink)) continue;
    c.box = cv::Rect(crop.x + ink.x, crop.y + ink.y, ink.width, ink.height);
    if (out) out->candidates.push_back(c.box);
    cands.push_back(c);
  }
  if (out) {
    out->heatmap = h01;
    out->threshold = t;
    out->mask = mask;
  }
  return cands;
}

at::Tensor stack_digits(const std::vector<Candidate>& cands) {
  at::Tensor x = at::empty({static_cast<int64_t>(cands.size()), 1, kSide, kSide});
  for (size_t i = 0; i < cands.size(); ++i) {
    x[static_cast<int64_t>(i)][0].copy_(
        at::from_blob(const_cast<float*>(cands[i].digit.ptr<float>()), {kSide, kSide}, at::kFloat));
  }
  return x;
}

DetectOutput detect_in_map(LeNet& net, const cv::Mat& gray, const cv::Mat& h01,
                           const DetectConfig& cfg) {
  DetectOutput out;
  const std::vector<Candidate> cands = extract_candidates(gray, h01, cfg, &out);
  if (!cands.empty()) {
    // The reader, when given, has one more class: "not a digit".
    const bool own_reader = !cfg.reader.is_empty();
    LeNet reader = own_reader ? cfg.reader : net;
    const int64_t reject = own_reader ? reader->options().num_classes - 1 : -1;
    at::NoGradGuard no_grad;
    const EvalModeGuard eval_mode(reader);
    const at::Tensor prob = inference_forward(reader, stack_digits(cands)).exp();  // (K, C)
    const auto [best, label] = prob.max(1);
    for (size_t i = 0; i < cands.size(); ++i) {
      const float s = best[static_cast<int64_t>(i)].item<float>();
      const int64_t l = label[static_cast<int64_t>(i)].item<int64_t>();
      if (s < cfg.min_score || l == reject) continue;
      out.detections.push_back({cands[i].box, static_cast<int>(l), s});
    }
  }
  std::sort(out.detections.begin(), out.detections.end(),
            [](const Detection& a, const Detection& b) {
              return std::make_pair(a.box.y, a.box.x) < std::make_pair(b.box.y, b.box.x);
            });
  return out;
}

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  const double uni = double(a.area()) + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<Proposal> all_proposals(const cv::Mat& gray, const MapFunction& map_of,
                                    const DetectConfig& cfg, const std::vector<double>& scales) {
  std::vector<Proposal> out;
  for (double s : cfg.map_proposals ? scales : std::vector<double>{}) {
    cv::Mat g;
    if (!pyramid_level(gray, s, g)) continue;
    for (const Candidate& c : extract_candidates(g, map_of(g), cfg)) {
      const cv::Rect box = unscale_box(c.box, s) & cv::Rect(0, 0, gray.cols, gray.rows);
      if (box.area() > 0) out.push_back({box, darker_than_surroundings(gray, box)});
    }
  }
  if (!cfg.region_proposals) return out;
  std::vector<Proposal> regions = region_proposals(gray, cfg.regions);
  // A hotspot box that a region already gives is dropped.
  const size_t from_map = out.size();
  for (Proposal& r : regions) {
    bool dup = false;
    for (size_t i = 0; i < from_map && !dup; ++i) {
      dup = out[i].dark_on_light == r.dark_on_light && iou(out[i].box, r.box) > cfg.regions.same_box;
    }
    if (!dup) out.push_back(r);
  }
  return out;
}

std::vector<cv::Mat> context_crops(const cv::Mat& gray, const std::vector<Proposal>& props) {
  std::vector<cv::Mat> crops(props.size());
  cv::parallel_for_(cv::Range(0, static_cast<int>(props.size())), [&](const cv::Range& r) {
    for (int i = r.start; i < r.end; ++i) {
      if (!context_normalize(gray, props[i].box, props[i].dark_on_light, crops[i])) {
        crops[i].release();
      }
    }
  });
  return crops;
}

at::Tensor read_crops(LeNet& reader, const std::vector<cv::Mat>& crops) {
  constexpr int64_t kBatch = 256;  // cache-sized; larger batches are no faster
  const int64_t n = static_cast<int64_t>(crops.size());
  at::NoGradGuard no_grad;
  const EvalModeGuard eval_mode(reader);
  std::vector<at::Tensor> parts;
  for (int64_t b = 0; b < n; b += kBatch) {
    const int64_t m = std::min(kBatch, n - b);
    at::Tensor x = at::empty({m, 1, kSide, kSide});
    float* dst = x.data_ptr<float>();
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(dst + i * kSide * kSide, crops[static_cast<size_t>(b + i)].ptr<float>(),
                  sizeof(float) * kSide * kSide);
    }
    parts.push_back(inference_forward(reader, x).exp());
  }
  return parts.empty() ? at::empty({0, 0}) : at::cat(parts);
}

std::vector<size_t> not_rejected(const at::Tensor& probs, double level) {
  const at::Tensor none = probs.select(1, probs.size(1) - 1).contiguous();
  const float* p = none.data_ptr<float>();
  std::vector<size_t> rows;
  for (int64_t i = 0; i < none.size(0); ++i) {
    if (p[i] < level) rows.push_back(static_cast<size_t>(i));
  }
  return rows;
}

namespace {

// The boxes of `boxes` (crops `crops`) on the line of a detection, near it, that the letter
// reader takes for letters.
std::vector<cv::Rect> letters_near(const DetectConfig& cfg, const std::vector<Detection>& dets,
                                   const std::vector<cv::Rect>& boxes,
                                   const std::vector<cv::Mat>& crops) {
  std::vector<cv::Rect> near;
  std::vector<cv::Mat> near_crops;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const cv::Rect& r = boxes[i];
    bool close = false;
    for (const Detection& d : dets) {
      const double h = d.box.height;
      const double dy = std::abs((r.y + r.height / 2.0) - (d.box.y + d.box.height / 2.0));
      const double dx = std::max(r.x - (d.box.x + d.box.width), d.box.x - (r.x + r.width));
      close |= r.height >= 0.7 * h && r.height <= 1.3 * h && dy <= 0.5 * h &&
               dx <= (cfg.word_letters + 1) * h * (1.3 + cfg.word_gap) &&
               (r & d.box).area() < 0.3 * r.area();
    }
    if (!close) continue;
    near.push_back(r);
    near_crops.push_back(crops[i]);
  }
  if (near.empty()) return {};
  LeNet letters = cfg.letter_reader;
  const at::Tensor p = read_crops(letters, near_crops).select(1, kLetterClass).contiguous();
  const float* pl = p.data_ptr<float>();
  std::vector<cv::Rect> out;
  for (size_t i = 0; i < near.size(); ++i) {
    if (pl[i] >= cfg.letter_level) out.push_back(near[i]);
  }
  return out;
}

}  // namespace

std::vector<Detection> detect_regions(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                      const DetectConfig& cfg, const std::vector<double>& scales,
                                      std::vector<cv::Rect>* candidates) {
  const std::vector<Proposal> props = all_proposals(gray, map_of, cfg, scales);
  const std::vector<cv::Mat> all_crops = context_crops(gray, props);
  std::vector<cv::Rect> boxes;
  std::vector<cv::Mat> crops;
  for (size_t i = 0; i < props.size(); ++i) {
    if (all_crops[i].empty()) continue;
    boxes.push_back(props[i].box);
    crops.push_back(all_crops[i]);
  }
  if (candidates) candidates->insert(candidates->end(), boxes.begin(), boxes.end());
  // The letter rule looks at every box read, those the first reader drops too.
  const bool letter_rule = !cfg.letter_reader.is_empty() && cfg.word_gap > 0;
  std::vector<cv::Rect> all_boxes;
  std::vector<cv::Mat> all_read;
  if (letter_rule) {
    all_boxes = boxes;
    all_read = crops;
  }
  if (!cfg.first_reader.is_empty() && !crops.empty()) {
    // The cheap first reader drops what it is sure is not a digit.
    LeNet first = cfg.first_reader;
    size_t n = 0;
    for (size_t i : not_rejected(read_crops(first, crops), cfg.first_reject)) {
      boxes[n] = boxes[i];
      crops[n] = crops[i];
      ++n;
    }
    boxes.resize(n);
    crops.resize(n);
  }
  if (crops.empty()) return {};
  const bool own_reader = !cfg.reader.is_empty();
  LeNet reader = own_reader ? cfg.reader : net;
  const int64_t reject = own_reader ? reader->options().num_classes - 1 : -1;
  at::Tensor prob = read_crops(reader, crops).contiguous();
  if (!cfg.verifier.is_empty() && own_reader) {
    // The verifier reads again what the reader does not reject outright; the mix decides.
    std::vector<cv::Mat> again;
    std::vector<int64_t> rows;
    for (size_t i : not_rejected(prob, cfg.verify_gate)) {
      again.push_back(crops[i]);
      rows.push_back(static_cast<int64_t>(i));
    }
    if (!again.empty()) {
      LeNet verifier = cfg.verifier;
      const at::Tensor rows_t = at::tensor(rows);
      const at::Tensor mixed = (1 - cfg.verify_weight) * prob.index_select(0, rows_t) +
                               cfg.verify_weight * read_crops(verifier, again);
      prob.index_copy_(0, rows_t, mixed);
    }
  }
  const auto [best, label] = prob.max(1);
  const float* bp = best.data_ptr<float>();
  const int64_t* lp = label.data_ptr<int64_t>();
  std::vector<Detection> dets;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (bp[i] < cfg.min_score || lp[i] == reject) continue;
    dets.push_back({boxes[i], static_cast<int>(lp[i]), bp[i]});
  }
  dets = non_max_suppression(dets, 0.3);
  const bool words = letter_rule && !dets.empty();
  if (cfg.min_score_alone <= cfg.min_score && !words) return dets;
  // A digit with a neighbour on its line (part of a number) keeps min_score; one standing
  // alone needs min_score_alone: texture and stray strokes give lone digit-like shapes. A
  // number with letters beside it is part of a word.
  const std::vector<NumberGroup> groups = group_numbers(dets);
  std::vector<bool> keep(dets.size(), false);
  for (const NumberGroup& g : groups) {
    for (int i : g.digits) keep[i] = g.digits.size() > 1 || dets[i].score >= cfg.min_score_alone;
  }
  if (words) {
    const std::vector<bool> lettered =
        among_letters(dets, groups, letters_near(cfg, dets, all_boxes, all_read), cfg.word_gap,
                      cfg.word_letters);
    for (size_t i = 0; i < dets.size(); ++i) keep[i] = keep[i] && !lettered[i];
  }
  std::vector<Detection> out;
  for (size_t i = 0; i < dets.size(); ++i) {
    if (keep[i]) out.push_back(dets[i]);
  }
  return out;
}

std::vector<Detection> detect_at_scales(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                        const DetectConfig& cfg, const std::vector<double>& scales,
                                        std::vector<cv::Rect>* candidates) {
  if (cfg.proposals == ProposalKind::kRegions) {
    return detect_regions(net, gray, map_of, cfg, scales, candidates);
  }
  if (scales.size() == 1 && scales[0] == 1.0) {
    DetectOutput d = detect_in_map(net, gray, map_of(gray), cfg);
    if (candidates) candidates->insert(candidates->end(), d.candidates.begin(), d.candidates.end());
    return d.detections;
  }
  return detect_multiscale(net, gray, map_of, cfg, scales, candidates);
}

}  // namespace adgap
