#include "adgap/detect/proposals.h"

#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "adgap/detect/detect.h"

namespace adgap {

namespace {

// Mean grey level of the ring `pad` px wide around `box` (inside the image).
double ring_mean(const cv::Mat& gray, const cv::Rect& box, int pad) {
  const cv::Rect image(0, 0, gray.cols, gray.rows);
  const cv::Rect outer =
      cv::Rect(box.x - pad, box.y - pad, box.width + 2 * pad, box.height + 2 * pad) & image;
  const cv::Rect inner = box & image;
  const double sum_outer = cv::sum(gray(outer))[0], sum_inner = cv::sum(gray(inner))[0];
  const double n = double(outer.area()) - inner.area();
  return n > 0 ? (sum_outer - sum_inner) / n : sum_outer / std::max(1, outer.area());
}

}  // namespace

bool darker_than_surroundings(const cv::Mat& gray, const cv::Rect& box) {
  const cv::Rect r = box & cv::Rect(0, 0, gray.cols, gray.rows);
  if (r.area() == 0) return true;
  cv::Mat flat = gray(r).clone().reshape(1, 1);
  // Ink is the extreme tenth of the box; compare both extremes with the ring.
  uint8_t* v = flat.ptr<uint8_t>();
  const int n = flat.cols;
  std::nth_element(v, v + n / 10, v + n);
  const double lo = v[n / 10];
  std::nth_element(v + n / 10, v + n * 9 / 10, v + n);
  const double hi = v[n * 9 / 10];
  const double ring = ring_mean(gray, box, std::max(2, box.height / 6));
  return ring - lo >= hi - ring;
}

namespace {

// What a level's image holds: the level itself, or the strokes of one polarity from a top-hat.
enum StrokeImage { kPlain, kLightStrokes, kDarkStrokes };

// MSER regions of one level, their boxes (and the cut parts of wide ones) in the level's
// pixels, appended to `raw` with `scale` undone. Only regions of `min_h` px or taller (level
// pixels) and at most `max_area` px are listed: listing every large region's pixels is what
// costs, so large regions are found on coarser levels instead.
void level_proposals(const cv::Mat& gray, const ProposalConfig& cfg, double scale, int min_h,
                     int max_h, int max_area, std::vector<Proposal>& raw,
                     std::set<std::tuple<int, int, int, int>>& seen,
                     StrokeImage strokes = kPlain) {
  cv::Ptr<cv::MSER> mser = cv::MSER::create(cfg.delta, cfg.min_area,
                                            std::max(cfg.min_area + 1, max_area),
                                            cfg.max_variation, cfg.min_diversity);
  std::vector<std::vector<cv::Point>> regions;
  std::vector<cv::Rect> boxes;
  mser->detectRegions(gray, regions, boxes);
  auto add = [&](const cv::Rect& b, bool dark) {
    const cv::Rect u = scale == 1.0 ? b : unscale_box(b, scale);
    if (seen.insert({u.x, u.y, u.width, u.height}).second) raw.push_back({u, dark});
  };
  std::set<std::tuple<int, int, int, int>> here;  // one entry per distinct box of this level
  for (size_t i = 0; i < boxes.size(); ++i) {
    const cv::Rect& b = boxes[i];
    if (b.height < min_h || b.height > max_h) continue;
    if (!here.insert({b.x, b.y, b.width, b.height}).second) continue;
    double sum = 0;
    for (const cv::Point& p : regions[i]) sum += gray.at<uint8_t>(p);
    const double inside = sum / std::max<size_t>(1, regions[i].size());
    // The polarity of the region: its pixels against the ring.
    bool dark = inside < ring_mean(gray, b, std::max(2, b.height / 6));
    if (strokes != kPlain) {
      if (dark) continue;  // a top-hat's strokes are its bright regions
      dark = strokes == kDarkStrokes;
    }
    if (b.width <= cfg.max_aspect * b.height) add(b, dark);
    if (b.width > cfg.split_aspect * b.height) {
      // Touching digits or a whole number: parts of about a digit's width, cut at equal
      // widths and at the thinnest column near each such cut, each part's height fitted to
      // the region's pixels in its columns.
      std::vector<int> column(b.width, 0), top(b.width, INT32_MAX), bottom(b.width, -1);
      for (const cv::Point& p : regions[i]) {
        const int x = p.x - b.x;
        column[x] += 1;
        top[x] = std::min(top[x], p.y);
        bottom[x] = std::max(bottom[x], p.y);
      }
      auto add_part = [&](int x0, int x1) {
        int y0 = INT32_MAX, y1 = -1;
        for (int x = x0; x < x1; ++x) {
          y0 = std::min(y0, top[x - b.x]);
          y1 = std::max(y1, bottom[x - b.x]);
        }
        if (y1 < 0 || x1 - x0 < 2) return;
        const cv::Rect part(x0, y0, x1 - x0, y1 - y0 + 1);
        if (part.height >= min_h) add(part, dark);
      };
      const double n0 = b.width / (cfg.digit_aspect * b.height);
      for (int n = std::max(2, static_cast<int>(n0)); n <= static_cast<int>(n0) + 1; ++n) {
        if (n > cfg.max_parts) break;
        std::vector<int> equal = {b.x}, thin = {b.x};
        const int reach = std::max(1, b.width / (4 * n));
        for (int k = 1; k < n; ++k) {
          const int c = static_cast<int>(std::lround(double(k) * b.width / n));
          equal.push_back(b.x + c);
          int best = c;
          for (int x = std::max(1, c - reach); x <= std::min(b.width - 2, c + reach); ++x) {
            if (column[x] < column[best]) best = x;
          }
          thin.push_back(b.x + best);
        }
        equal.push_back(b.x + b.width);
        thin.push_back(b.x + b.width);
        for (int k = 0; k < n; ++k) {
          add_part(equal[k], equal[k + 1]);
          add_part(thin[k], thin[k + 1]);
        }
      }
    }
  }
}

}  // namespace

std::vector<Proposal> region_proposals(const cv::Mat& gray, const ProposalConfig& cfg) {
  CV_Assert(gray.type() == CV_8UC1);
  std::vector<Proposal> raw;
  std::set<std::tuple<int, int, int, int>> seen;
  // A pyramid of halvings: each level lists regions up to level_max_area px; the last (the
  // first under twice coarsest_side px on its shorter side, or the image itself) lists every
  // size up to max_height. With top-hats, levels finer than plain_from (but the last) list
  // only their top-hats' regions.
  cv::Mat level = gray;
  double scale = 1.0;
  for (int l = 0;; ++l) {
    const bool last = cfg.level_max_area <= 0 ||
                      std::min(level.rows, level.cols) < 2 * cfg.coarsest_side;
    const int max_area = last ? std::max(cfg.min_area + 1, level.rows * level.cols / 3)
                              : cfg.level_max_area;
    const int min_h = l == 0 ? cfg.min_height : std::max(cfg.min_height, cfg.level_min_height);
    const int max_h = static_cast<int>(cfg.max_height * level.rows);
    if (cfg.tophat <= 0 || l >= cfg.plain_from || last) {
      level_proposals(level, cfg, scale, min_h, max_h, max_area, raw, seen);
    }
    if (cfg.tophat > 0) {
      // Strokes narrower than the kernel, freed from whatever wider area they touch (a dark
      // band under dark digits, a window beside them): bright ones on the white top-hat, dark
      // ones on the black.
      const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, {cfg.tophat, cfg.tophat});
      cv::Mat strokes;
      cv::morphologyEx(level, strokes, cv::MORPH_TOPHAT, k);
      level_proposals(strokes, cfg, scale, min_h, max_h, max_area, raw, seen, kLightStrokes);
      cv::morphologyEx(level, strokes, cv::MORPH_BLACKHAT, k);
      level_proposals(strokes, cfg, scale, min_h, max_h, max_area, raw, seen, kDarkStrokes);
    }
    if (last) break;
    cv::Mat next;
    cv::resize(level, next, cv::Size((level.cols + 1) / 2, (level.rows + 1) / 2), 0, 0,
               cv::INTER_AREA);
    scale *= 0.5;
    level = next;
  }
  // Near-duplicates (nested regions a few grey levels apart) are one proposal.
  std::sort(raw.begin(), raw.end(),
            [](const Proposal& a, const Proposal& b) { return a.box.x < b.box.x; });
  std::vector<Proposal> out;
  std::vector<bool> gone(raw.size(), false);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (gone[i]) continue;
    out.push_back(raw[i]);
    const cv::Rect& a = raw[i].box;
    // IoU > same_box needs the left edges within (1 - same_box) of the wider box.
    const int reach = static_cast<int>(std::ceil((1 - cfg.same_box) * a.width / cfg.same_box)) + 1;
    for (size_t j = i + 1; j < raw.size() && raw[j].box.x <= a.x + reach; ++j) {
      if (!gone[j] && raw[j].dark_on_light == raw[i].dark_on_light &&
          iou(a, raw[j].box) > cfg.same_box) {
        gone[j] = true;
      }
    }
  }
  return out;
}

bool context_normalize(const cv::Mat& gray, const cv::Rect& box, bool dark_on_light,
                       cv::Mat& out28) {
  constexpr int kSide = 28, kBox = 20, kPixels = kSide * kSide;
  if (box.width <= 0 || box.height <= 0) return false;
  const double side = std::max(box.width, box.height);
  const double crop = side * kSide / kBox;  // source pixels the 28 px cover
  const double cx = box.x + box.width / 2.0, cy = box.y + box.height / 2.0;
  const cv::Rect want(static_cast<int>(std::floor(cx - crop / 2)),
                      static_cast<int>(std::floor(cy - crop / 2)),
                      static_cast<int>(std::ceil(crop)), static_cast<int>(std::ceil(crop)));
  const cv::Rect have = want & cv::Rect(0, 0, gray.cols, gray.rows);
  if (have.area() == 0) return false;
  cv::Mat patch = gray(have);  // a view; edges beyond the image replicated only when needed
  if (have != want) {
    cv::copyMakeBorder(patch, patch, have.y - want.y, want.br().y - have.br().y,
                       have.x - want.x, want.br().x - have.br().x, cv::BORDER_REPLICATE);
  }
  uint8_t small_px[kPixels];
  cv::Mat small(kSide, kSide, CV_8U, small_px);
  cv::resize(patch, small, cv::Size(kSide, kSide), 0, 0,
             patch.cols > kSide ? cv::INTER_AREA : cv::INTER_LINEAR);
  // The box inside the 28x28 crop; the ring is everything else.
  const double f = kSide / double(want.width);
  const cv::Rect inner = cv::Rect(static_cast<int>(std::lround((box.x - want.x) * f)),
                                  static_cast<int>(std::lround((box.y - want.y) * f)),
                                  std::max(1, static_cast<int>(std::lround(box.width * f))),
                                  std::max(1, static_cast<int>(std::lround(box.height * f)))) &
                         cv::Rect(0, 0, kSide, kSide);
  float value[kPixels], ring[kPixels], ink[kPixels];
  size_t n_ring = 0, n_ink = 0;
  for (int y = 0; y < kSide; ++y) {
    for (int x = 0; x < kSide; ++x) {
      const int i = y * kSide + x;
      const float v = dark_on_light ? 255.0f - small_px[i] : float(small_px[i]);
      value[i] = v;
      if (inner.contains({x, y})) {
        ink[n_ink++] = v;
      } else {
        ring[n_ring++] = v;
      }
    }
  }
  if (n_ring == 0 || n_ink == 0) return false;
  std::nth_element(ring, ring + n_ring / 2, ring + n_ring);
  const float bg = ring[n_ring / 2];
  const size_t top = std::min(n_ink * 95 / 100, n_ink - 1);
  std::nth_element(ink, ink + top, ink + n_ink);
  const float hi = ink[top];
  if (hi - bg < 8) return false;
  // Background at 0, ink at 1, clipped.
  out28.create(kSide, kSide, CV_32F);
  float* out = out28.ptr<float>();
  const float scale = 1.0f / (hi - bg);
  for (int i = 0; i < kPixels; ++i) out[i] = std::min(1.0f, std::max(0.0f, (value[i] - bg) * scale));
  return true;
}

}  // namespace adgap
