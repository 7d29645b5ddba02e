#include "adgap/detect/numbers.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace adgap {

namespace {

int find(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

// Whether b may follow a on the same line of one number (a's left edge not right of b's).
bool neighbours(const cv::Rect& a, const cv::Rect& b, const NumberConfig& cfg) {
  const int lo_h = std::min(a.height, b.height), hi_h = std::max(a.height, b.height);
  if (lo_h <= 0 || double(lo_h) / hi_h < cfg.min_height_ratio) return false;
  const int v_overlap = std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y);
  if (v_overlap < cfg.min_v_overlap * lo_h) return false;
  const int gap = b.x - (a.x + a.width);  // negative when they overlap
  if (gap > cfg.max_gap * hi_h) return false;
  return -gap <= cfg.max_overlap * std::min(a.width, b.width);
}

// The mark between digit boxes a and b (a left of b) in `gray`, or 0. `ink_dark`: the digits'
// polarity; `level`: the ink level.
char separator_between(const cv::Mat& gray, const cv::Rect& a, const cv::Rect& b, bool ink_dark,
                       double level) {
  const int top = std::min(a.y, b.y), bottom = std::max(a.y + a.height, b.y + b.height);
  const int band = bottom - top;
  const int left = a.x + a.width, right = b.x;
  if (band <= 0 || right - left < std::max(2.0, 0.1 * band)) return 0;
  // The gap, and below it room for a comma's tail.
  const int below = static_cast<int>(std::lround(0.3 * band));
  const cv::Rect gap =
      cv::Rect(left, top, right - left, band + below) & cv::Rect(0, 0, gray.cols, gray.rows);
  if (gap.width < 2 || gap.height < band) return 0;
  cv::Mat ink;
  cv::threshold(gray(gap), ink, level, 255, ink_dark ? cv::THRESH_BINARY_INV : cv::THRESH_BINARY);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  struct Blob {
    int x, y, w, h;
  };
  std::vector<Blob> blobs;
  const double min_area = std::max(2.0, 0.003 * band * band);
  for (int i = 1; i < n; ++i) {
    const Blob bl{stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                  stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT)};
    if (stats.at<int>(i, cv::CC_STAT_AREA) < min_area) continue;  // noise
    if (bl.y >= band) continue;  // wholly below the digits
    // Across the gap from top to bottom: a stroke or a line, not a mark between digits.
    if (bl.y == 0 && bl.y + bl.h == gap.height) return 0;
    // Touching its sides: a piece of a digit whose box is a little inside its ink.
    if (bl.x == 0 || bl.x + bl.w == gap.width) continue;
    blobs.push_back(bl);
  }
  const auto small = [&](const Blob& bl) { return bl.h <= 0.3 * band && bl.w <= 0.35 * band; };
  const auto centre = [&](const Blob& bl) { return (bl.y + bl.h / 2.0) / band; };
  const auto on_baseline = [&](const Blob& bl) { return bl.y + bl.h <= band + 0.08 * band; };
  if (blobs.size() == 1) {
    const Blob& bl = blobs[0];
    const double c = centre(bl);
    if (bl.h <= 0.25 * band && bl.w >= 1.5 * bl.h && bl.w <= 1.2 * band && c >= 0.3 && c <= 0.75) {
      return '-';
    }
    if (small(bl) && bl.w <= 2.0 * bl.h && bl.h <= 2.0 * bl.w && c >= 0.75 && on_baseline(bl)) {
      return '.';
    }
    // A comma: a dot on the baseline with a tail below it.
    if (!on_baseline(bl) && bl.y >= 0.6 * band && bl.h <= 0.5 * band && bl.w <= 0.35 * band) {
      return ',';
    }
    return 0;
  }
  if (blobs.size() == 2) {
    Blob up = blobs[0], down = blobs[1];
    if (centre(up) > centre(down)) std::swap(up, down);
    const bool side_by_side = std::max(up.x, down.x) < std::min(up.x + up.w, down.x + down.w);
    if (small(up) && small(down) && side_by_side && centre(up) < 0.5 && centre(down) > 0.5 &&
        on_baseline(down)) {
      return ':';
    }
  }
  return 0;
}

// The digits' ink in `box`: Otsu's level over it, and whether the ink is dark (the smaller part
// of the digits' own boxes: a digit's box is tight around its strokes). False when unknown.
bool ink_of(const cv::Mat& gray, const cv::Rect& box, const std::vector<int>& digits,
            const std::vector<Detection>& dets, bool* ink_dark, double* level) {
  const cv::Rect all = box & cv::Rect(0, 0, gray.cols, gray.rows);
  if (all.area() == 0) return false;
  cv::Mat bin;
  *level = cv::threshold(gray(all), bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  int64_t dark = 0, area = 0;
  for (int i : digits) {
    const cv::Rect r = dets[i].box & all;
    if (r.area() == 0) continue;
    area += r.area();
    dark += r.area() - cv::countNonZero(bin(r - all.tl()));
  }
  *ink_dark = 2 * dark < area;
  return area > 0;
}

}  // namespace

std::string text_with_separators(const cv::Mat& gray, const NumberGroup& g,
                                 const std::vector<Detection>& dets) {
  if (g.digits.size() < 2 || gray.empty() || gray.type() != CV_8UC1) return g.text;
  bool ink_dark = true;
  double level = 0;
  if (!ink_of(gray, g.box, g.digits, dets, &ink_dark, &level)) return g.text;
  std::string out;
  for (size_t k = 0; k < g.digits.size(); ++k) {
    const Detection& d = dets[g.digits[k]];
    out += std::to_string(d.label);
    if (k + 1 == g.digits.size()) break;
    const char c = separator_between(gray, d.box, dets[g.digits[k + 1]].box, ink_dark, level);
    if (c) out += c;
  }
  return out;
}

std::vector<SeparatedNumber> read_separated_numbers(const cv::Mat& gray,
                                                    const std::vector<Detection>& dets,
                                                    double max_gap) {
  std::vector<NumberGroup> groups = group_numbers(dets);
  const bool image = !gray.empty() && gray.type() == CV_8UC1;
  // Joins the number whose first digit follows another's last on the same line, across a mark:
  // group_numbers' rules for neighbours, with room for the mark in the gap.
  NumberConfig across;
  across.max_gap = max_gap;
  for (bool joined = image; joined;) {
    joined = false;
    for (size_t i = 0; i < groups.size() && !joined; ++i) {
      for (size_t j = 0; j < groups.size() && !joined; ++j) {
        if (i == j) continue;
        const cv::Rect& a = dets[groups[i].digits.back()].box;
        const cv::Rect& b = dets[groups[j].digits.front()].box;
        if (b.x <= a.x + a.width || !neighbours(a, b, across)) continue;
        NumberGroup both = groups[i];
        both.digits.insert(both.digits.end(), groups[j].digits.begin(), groups[j].digits.end());
        both.box |= groups[j].box;
        bool ink_dark = true;
        double level = 0;
        if (!ink_of(gray, both.box, both.digits, dets, &ink_dark, &level) ||
            !separator_between(gray, a, b, ink_dark, level)) {
          continue;
        }
        both.text += groups[j].text;
        both.score *= groups[j].score;
        groups[i] = both;
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(j));
        joined = true;
      }
    }
  }
  std::vector<SeparatedNumber> out;
  for (NumberGroup& g : groups) {
    std::string sep = image ? text_with_separators(gray, g, dets) : std::string();
    out.push_back({std::move(g), std::move(sep)});
  }
  return out;
}

std::vector<NumberGroup> group_numbers(const std::vector<Detection>& dets,
                                       const NumberConfig& cfg) {
  const int n = static_cast<int>(dets.size());
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return dets[a].box.x < dets[b].box.x; });
  // Each digit joins its nearest neighbour to the right that fits (a chain, not every pair, so
  // that a number does not reach over a digit of another line).
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (int oi = 0; oi < n; ++oi) {
    const int a = order[oi];
    int best = -1, best_gap = 0;
    for (int oj = oi + 1; oj < n; ++oj) {
      const int b = order[oj];
      if (!neighbours(dets[a].box, dets[b].box, cfg)) continue;
      const int gap = dets[b].box.x - (dets[a].box.x + dets[a].box.width);
      if (best < 0 || gap < best_gap) {
        best = b;
        best_gap = gap;
      }
    }
    if (best >= 0) parent[find(parent, best)] = find(parent, a);
  }
  std::vector<std::vector<int>> members(n);
  for (int oi = 0; oi < n; ++oi) members[find(parent, order[oi])].push_back(order[oi]);
  std::vector<NumberGroup> out;
  for (const std::vector<int>& m : members) {
    if (m.empty()) continue;
    NumberGroup g;
    g.box = dets[m[0]].box;
    g.score = 1;
    for (int i : m) {  // already left to right
      g.box |= dets[i].box;
      g.text += std::to_string(dets[i].label);
      g.digits.push_back(i);
      g.score *= dets[i].score;
    }
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const NumberGroup& a, const NumberGroup& b) {
    return std::make_pair(a.box.y, a.box.x) < std::make_pair(b.box.y, b.box.x);
  });
  return out;
}

namespace {

// Whether `r` is a character beside digit `d` on its line: of a similar height, sharing its
// top or its baseline (a letter with a descender shares only the top), `r` before `d` (or after
// it, `after`) within `max_gap` of d's height, overlapping it little.
bool letter_beside(const cv::Rect& d, const cv::Rect& r, double max_gap, bool after) {
  const double h = d.height;
  if (r.height < 0.7 * h || r.height > 1.3 * h) return false;
  if (r.width < 0.3 * r.height || r.width > 1.3 * r.height) return false;  // a line, a word
  const bool top = std::abs(r.y - d.y) <= 0.2 * h;
  const bool base = std::abs((r.y + r.height) - (d.y + d.height)) <= 0.2 * h;
  if (!top && !base) return false;
  const int gap = after ? r.x - (d.x + d.width) : d.x - (r.x + r.width);
  return gap <= max_gap * h && -gap <= 0.2 * std::min(r.width, d.width);
}

}  // namespace

std::vector<bool> among_letters(const std::vector<Detection>& dets,
                                const std::vector<NumberGroup>& groups,
                                const std::vector<cv::Rect>& letters, double max_gap,
                                int min_letters) {
  // A letter is not part of a detection (a fragment of a digit, or the digit again).
  std::vector<cv::Rect> chars;
  for (const cv::Rect& r : letters) {
    bool part = false;
    for (const Detection& d : dets) part |= (r & d.box).area() >= 0.3 * r.area();
    if (!part) chars.push_back(r);
  }
  // How many characters follow each other from `d` on, away from it (`after`: to the right).
  const auto chain = [&](cv::Rect d, bool after) {
    const double h = d.height;
    int n = 0;
    for (; n < std::max(min_letters, 1); ++n) {
      // The largest box beside it (a whole character rather than a piece of one).
      const cv::Rect* best = nullptr;
      for (const cv::Rect& r : chars) {
        if (letter_beside(d, r, max_gap, after) && (!best || r.area() > best->area())) best = &r;
      }
      if (!best) break;
      d = cv::Rect(best->x, d.y, best->width, static_cast<int>(h));  // the next one is beside it
    }
    return n;
  };
  std::vector<bool> out(dets.size(), false);
  for (const NumberGroup& g : groups) {
    if (g.digits.empty()) continue;
    const int before = chain(dets[g.digits.front()].box, false);
    const int after = chain(dets[g.digits.back()].box, true);
    // min_letters in a row on one side, or one on each: a word.
    const bool word_piece =
        before >= min_letters || after >= min_letters || (before >= 1 && after >= 1);
    for (int i : g.digits) out[i] = word_piece;
  }
  return out;
}

}  // namespace adgap
