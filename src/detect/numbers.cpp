#include "adgap/detect/numbers.h"

#include <algorithm>
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

}  // namespace

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
