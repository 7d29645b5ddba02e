#include "adgap/report/bench_report.h"

#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <map>
#include <sstream>

#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"

namespace adgap {

std::string join_scales(const std::vector<double>& scales) {
  std::ostringstream s;
  for (size_t i = 0; i < scales.size(); ++i) s << (i ? "," : "") << scales[i];
  return s.str();
}

LocBenchSettings settings_of(const Detector& det, const std::string& real_file) {
  std::string reader = det.reader_path;
  if (!det.first_reader_path.empty()) {
    char first[64];
    std::snprintf(first, sizeof first, "%.3g", det.cfg.first_reject);
    reader += " (after " + det.first_reader_path + " drops crops of P(not a digit) >= " + first +
              ")";
  }
  if (!det.verifier_path.empty()) {
    char gate[64];
    std::snprintf(gate, sizeof gate, "%.3g", det.cfg.verify_gate);
    reader += ", then " + det.verifier_path + " reads again the crops of P(not a digit) < " + gate;
  }
  if (!det.letter_reader_path.empty()) {
    char level[64];
    std::snprintf(level, sizeof level, "%.3g", det.cfg.letter_level);
    reader += "; numbers with " + std::to_string(det.cfg.word_letters) +
              " letter(s) in a row beside them (or one on each side) dropped, letters: boxes " +
              det.letter_reader_path + " gives P(letter) >= " + level;
  }
  return {det.options.mode, det.options.polarity, det.options.border, det.scales,
          reader,           det.cfg.min_score,    real_file,          det.cfg.min_score_alone};
}

std::string loc_bench_markdown(const LocBenchResult& r, const LocBenchSettings& s) {
  std::string md =
      "| method | pointing game | PxAP | MaxBoxAccV2 | candidate recall | precision | recall | F1 "
      "| reading accuracy | tuned k |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LocBenchRow& row : r.rows) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f |\n",
                  row.method.c_str(), row.pointing_game(), row.pxap.value(), row.boxacc.value(),
                  row.candidate_recall(), row.det.precision(), row.det.recall(), row.det.f1(),
                  row.det.reading_accuracy(), row.k);
    md += line;
  }
  int64_t truths = 0, empty = 0;
  for (const Scene& sc : r.eval) {
    truths += static_cast<int64_t>(sc.digits.size());
    empty += sc.digits.empty();
  }
  const bool on_tune = r.config.eval_on_tune;
  char cap[512];
  std::snprintf(cap, sizeof cap,
                "\n%zu %s scenes (seeds from %llu; %lld digits, %lld scenes without one), "
                "thresholds tuned on %lld scenes of the tune split (seeds from %llu). adgap: %s "
                "maps, polarity %s, border %s, pyramid %s, reader %s%s; min score %.2f.\n",
                r.eval.size(), on_tune ? "tune-split" : "evaluation",
                static_cast<unsigned long long>(r.eval_seed), static_cast<long long>(truths),
                static_cast<long long>(empty), static_cast<long long>(r.tune_scenes),
                static_cast<unsigned long long>(kTuneSplitSeed), s.mode.c_str(), s.polarity.c_str(),
                s.border.c_str(), join_scales(s.scales).c_str(),
                s.reader.empty() ? "none" : s.reader.c_str(),
                r.config.reader_for_all ? " (for every method)" : " (for adgap only)", s.min_score);
  md += cap;
  if (r.real_photos > 0) {
    md += "\nHand-annotated photos (" + s.real_file + ", " + std::to_string(r.real_photos) +
          " photo(s), " + std::to_string(r.rows.empty() ? 0 : r.rows[0].real.truths) +
          " digits), same tuned thresholds:\n\n"
          "| method | candidate recall | precision | recall | F1 | reading accuracy |\n"
          "|---|---:|---:|---:|---:|---:|\n";
    for (const LocBenchRow& row : r.rows) {
      char line[160];
      std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                    row.method.c_str(), row.real_candidate_recall(), row.real.precision(),
                    row.real.recall(), row.real.f1(), row.real.reading_accuracy());
      md += line;
    }
  }
  return md;
}

nlohmann::json loc_bench_json(const LocBenchResult& r, const LocBenchSettings& s) {
  nlohmann::json j = {{"eval_split_seed", r.eval_seed},
                      {"eval_scenes", r.eval.size()},
                      {"tune_split_seed", kTuneSplitSeed},
                      {"tune_scenes", r.tune_scenes},
                      {"adgap",
                       {{"mode", s.mode},
                        {"polarity", s.polarity},
                        {"border", s.border},
                        {"scales", s.scales},
                        {"reader", s.reader}}},
                      {"reader_for_all", r.config.reader_for_all},
                      {"min_score", s.min_score},
                      {"methods", nlohmann::json::array()}};
  for (const LocBenchRow& row : r.rows) {
    j["methods"].push_back({{"method", row.method},
                            {"pointing_game", row.pointing_game()},
                            {"pxap", row.pxap.value()},
                            {"maxboxacc_v2", row.boxacc.value()},
                            {"tuned_k", row.k},
                            {"candidate_recall", row.candidate_recall()},
                            {"real_candidate_recall", row.real_candidate_recall()},
                            {"detection", row.det.to_json()},
                            {"real_photos", row.real.to_json()}});
  }
  return j;
}

cv::Mat loc_bench_grid(const LocBenchResult& r) {
  if (r.grid_maps.empty()) return {};
  constexpr int kCellW = 200, kCellH = 150, kLabel = 22;  // px
  const size_t cols = r.rows.size() + 1;
  cv::Mat fig(kLabel + kCellH * static_cast<int>(r.grid_maps.size()),
              kCellW * static_cast<int>(cols), CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t c = 0; c < cols; ++c) {
    cv::putText(fig, c == 0 ? "scene" : r.rows[c - 1].method,
                {static_cast<int>(c) * kCellW + 4, 16}, cv::FONT_HERSHEY_SIMPLEX, 0.5,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  for (size_t row = 0; row < r.grid_maps.size(); ++row) {
    for (size_t c = 0; c < cols; ++c) {
      cv::Mat cell = c == 0 ? r.eval[row].image.clone()
                            : overlay_heatmap(r.eval[row].image, r.grid_maps[row][c - 1]);
      cv::resize(cell, cell, {kCellW - 4, kCellH - 4}, 0, 0, cv::INTER_AREA);
      cell.copyTo(
          fig(cv::Rect(static_cast<int>(c) * kCellW + 2,
                       kLabel + static_cast<int>(row) * kCellH + 2, kCellW - 4, kCellH - 4)));
    }
  }
  return fig;
}

std::string write_loc_bench(const std::string& dir, const std::string& name,
                            const LocBenchResult& r, const LocBenchSettings& s) {
  const std::string md = loc_bench_markdown(r, s);
  atomic_write_text(dir + "/" + name + ".md", md);
  atomic_write_text(dir + "/" + name + ".json", loc_bench_json(r, s).dump(2) + "\n");
  const cv::Mat grid = loc_bench_grid(r);
  if (!grid.empty()) write_png_atomic(dir + "/" + name + "_grid.png", grid);
  return md;
}

std::string map_modes_markdown(const std::vector<ModeResult>& rows) {
  std::string md =
      "| map mode | precision | recall | F1 | reading accuracy | label accuracy |\n"
      "|---|---:|---:|---:|---:|---:|\n";
  for (const ModeResult& m : rows) {
    char row[256];
    std::snprintf(row, sizeof row, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                  to_string(m.mode).c_str(), m.counts.precision(), m.counts.recall(), m.counts.f1(),
                  m.counts.reading_accuracy(), m.counts.label_accuracy());
    md += row;
  }
  return md;
}

nlohmann::json scene_eval_json(const std::vector<ModeResult>& rows,
                               const std::vector<Scene>& scenes, const SceneEvalInfo& info) {
  nlohmann::json j = {{"scenes", scenes.size()},           {"first_seed", info.first_seed},
                      {"digit_height", info.digit_height}, {"model", info.model},
                      {"polarity", info.polarity},         {"threshold", info.threshold},
                      {"min_score", info.min_score},       {"modes", nlohmann::json::object()}};
  for (const ModeResult& r : rows) j["modes"][to_string(r.mode)] = r.counts.to_json();
  return j;
}

std::string scene_eval_markdown(const std::vector<ModeResult>& rows,
                                const std::vector<Scene>& scenes, const SceneEvalInfo& info) {
  int64_t truths = 0;
  for (const Scene& s : scenes) truths += static_cast<int64_t>(s.digits.size());
  const int64_t n = static_cast<int64_t>(scenes.size());
  char caption[320];
  std::snprintf(caption, sizeof caption,
                "\n%lld scenes (seeds %lld..%lld) holding %lld digits %d-%d px high; IoU >= "
                "0.5, min score %.2f, polarity %s, threshold %s (k %.2g).\n",
                static_cast<long long>(n), static_cast<long long>(info.first_seed),
                static_cast<long long>(info.first_seed + n - 1), static_cast<long long>(truths),
                info.digit_height.at(0), info.digit_height.at(1), info.min_score,
                info.polarity.c_str(), info.threshold.c_str(), info.k);
  return map_modes_markdown(rows) + caption;
}

namespace {

// Scores as probabilities: the expected calibration error of each set, and the reliability
// table of the main split (a detection is right when it is found and read right).
std::string calibration_markdown(const BenchV2Result& r, const char* split) {
  Reliability real;
  for (const RealPhotoResult& p : r.real) real += p.det.reliability;
  std::string md =
      "\n### Scores as probabilities\n\nA detection is right when it matches a digit (IoU >= 0.5) "
      "and reads it right. Expected calibration error (ten score bins; 0 is perfect): ";
  char line[200];
  const auto add = [&](const char* name, const Reliability& rel, bool first) {
    if (rel.total() == 0) return;
    std::snprintf(line, sizeof line, "%s%s %.3f (%lld detections)", first ? "" : ", ", name,
                  rel.ece(), static_cast<long long>(rel.total()));
    md += line;
  };
  add((std::string("v2 ") + split + " split").c_str(), r.eval.det.reliability, true);
  add("phone-size scenes", r.phone.det.reliability, false);
  add("text condition", r.text.det.reliability, false);
  add("real photos, with the digit-free ones", real, false);
  md += ".\n\n| score | detections | right | mean score | fraction right |\n"
        "|---|---:|---:|---:|---:|\n";
  const Reliability& e = r.eval.det.reliability;
  for (int b = 0; b < Reliability::kBins; ++b) {
    if (e.count[b] == 0) continue;
    std::snprintf(line, sizeof line, "| %.1f-%.1f | %lld | %lld | %.3f | %.3f |\n",
                  double(b) / Reliability::kBins, double(b + 1) / Reliability::kBins,
                  static_cast<long long>(e.count[b]), static_cast<long long>(e.right[b]),
                  e.score_sum[b] / e.count[b], double(e.right[b]) / e.count[b]);
    md += line;
  }
  return md;
}

// The photos with no digit: per kind, the photos, those with a detection and the detections
// (every one a false positive), then each photo that had any.
std::string digit_free_markdown(const std::vector<RealPhotoResult>& real) {
  struct Kind {
    int64_t photos = 0, with = 0, detections = 0;
  };
  std::map<std::string, Kind> kinds;
  Kind all;
  std::string wrong;
  for (const RealPhotoResult& p : real) {
    if (!p.negative) continue;
    const int64_t n = p.det.detections;
    for (Kind* k : {&kinds[p.kind.empty() ? "(no kind given)" : p.kind], &all}) {
      ++k->photos;
      k->with += n > 0;
      k->detections += n;
    }
    if (n > 0) wrong += "| " + p.path + " | " + p.kind + " | " + std::to_string(n) + " |\n";
  }
  if (all.photos == 0) return "";
  std::string md =
      "\nPhotos with no digit (every detection is a false positive):\n\n"
      "| kind | photos | photos with a detection | detections |\n|---|---:|---:|---:|\n";
  const auto row = [](const std::string& name, const Kind& k) {
    return "| " + name + " | " + std::to_string(k.photos) + " | " + std::to_string(k.with) +
           " | " + std::to_string(k.detections) + " |\n";
  };
  for (const auto& [name, k] : kinds) md += row(name, k);
  md += row("**all**", all);
  if (!wrong.empty()) {
    md += "\nThe photos with detections:\n\n| photo | kind | detections |\n|---|---|---:|\n" +
          wrong;
  }
  return md;
}

std::string v2_row(const std::string& name, const V2Counts& c, bool numbers) {
  char line[400];
  std::snprintf(line, sizeof line, "| %s | %lld | %lld | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |",
                name.c_str(), static_cast<long long>(c.scenes),
                static_cast<long long>(c.det.truths), c.candidate_recall(), c.det.precision(),
                c.det.recall(), c.det.f1(), c.det.reading_accuracy(), c.det.reading_f1());
  std::string s = line;
  if (numbers) {
    std::snprintf(line, sizeof line, " %lld of %lld (%.3f) | %lld of %lld |",
                  static_cast<long long>(c.numbers_exact), static_cast<long long>(c.numbers),
                  c.numbers_exact_rate(), static_cast<long long>(c.distractor_hits),
                  static_cast<long long>(c.distractors));
    s += line;
  }
  return s + "\n";
}

}  // namespace

std::string bench_v2_markdown(const BenchV2Result& r, const LocBenchSettings& s) {
  const char* split = r.config.on_tune ? "tune" : "eval";
  std::string md =
      "| | scenes | digits | candidate recall | precision | recall | F1 | reading accuracy | "
      "reading F1 | numbers read exactly | detections on letter strings (strings) |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  md += v2_row(std::string("detector, v2 ") + split + " split", r.eval, true);
  if (r.phone.scenes > 0) md += v2_row("phone-size scenes (4000x3000)", r.phone, true);
  if (r.text.scenes > 0) {
    md += v2_row("text: half the items letter strings of the whole alphabet", r.text, true);
  }
  char cap[2000];
  std::snprintf(cap, sizeof cap,
                "\nBenchmark v2, %s split (`adgap scenes --kind v2`): %.0f megapixels. IoU >= 0.5. "
                "Detector: %s map, polarity %s, pyramid %s, proposals regions, reader %s, "
                "minimum score %.2f (%.2f for a digit that is not part of a number).\n\n",
                split, r.eval.megapixels, s.mode.c_str(), s.polarity.c_str(),
                join_scales(s.scales).c_str(), s.reader.empty() ? "none" : s.reader.c_str(),
                s.min_score, std::max(s.min_score, s.min_score_alone));
  md += cap;
  md += "### Recall by condition (" + std::string(split) + " split)\n\n" +
        conditions_markdown(r.eval);
  md += calibration_markdown(r, split);
  if (!r.methods.empty()) {
    md += "\n### Maps compared\n\nThe first " + std::to_string(r.methods.front().hotspots.scenes) +
          " scenes; every method's map on the same pyramid, threshold and reader. 'hotspots': "
          "the map's thresholded regions are the only candidates; 'with regions': joined with "
          "the stroke-region proposals, as the detector does.\n\n"
          "| method | hotspots: candidate recall | F1 | reading | with regions: candidate "
          "recall | F1 | reading |\n|---|---:|---:|---:|---:|---:|---:|\n";
    char line[300];
    for (const BenchV2Result::MethodRow& m : r.methods) {
      std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                    m.method.c_str(), m.hotspots.candidate_recall(), m.hotspots.det.f1(),
                    m.hotspots.det.reading_accuracy(), m.with_regions.candidate_recall(),
                    m.with_regions.det.f1(), m.with_regions.det.reading_accuracy());
      md += line;
    }
    std::snprintf(line, sizeof line, "| (no map: regions only) | | | | %.3f | %.3f | %.3f |\n",
                  r.regions_only.candidate_recall(), r.regions_only.det.f1(),
                  r.regions_only.det.reading_accuracy());
    md += line;
  }
  if (!r.real.empty()) {
    md += "\n### Real photos\n\n| photo | digits | candidate recall | detections | found | "
          "read | false positives |\n|---|---:|---:|---:|---:|---:|---:|\n";
    MatchCounts total;
    int64_t covered = 0;
    char line[400];
    for (const RealPhotoResult& p : r.real) {
      if (p.negative) continue;
      total += p.det;
      covered += p.covered;
      std::snprintf(line, sizeof line, "| %s | %lld | %.3f | %lld | %lld | %lld | %lld |\n",
                    p.path.c_str(), static_cast<long long>(p.det.truths),
                    p.det.truths ? double(p.covered) / p.det.truths : 0.0,
                    static_cast<long long>(p.det.detections),
                    static_cast<long long>(p.det.matched), static_cast<long long>(p.det.read),
                    static_cast<long long>(p.det.detections - p.det.matched));
      md += line;
    }
    std::snprintf(line, sizeof line,
                  "| **all** | %lld | %.3f | %lld | %lld | %lld | %lld |\n\nReading F1 (a "
                  "detection counts when found and read right): %.3f; precision %.3f, recall "
                  "%.3f.\n",
                  static_cast<long long>(total.truths),
                  total.truths ? double(covered) / total.truths : 0.0,
                  static_cast<long long>(total.detections), static_cast<long long>(total.matched),
                  static_cast<long long>(total.read),
                  static_cast<long long>(total.detections - total.matched),
                  total.reading_f1(), total.detections ? double(total.read) / total.detections : 0,
                  total.reading_accuracy());
    md += line;
    md += digit_free_markdown(r.real);
  }
  return md;
}

nlohmann::json bench_v2_json(const BenchV2Result& r, const LocBenchSettings& s) {
  nlohmann::json methods = nlohmann::json::array(), real = nlohmann::json::array();
  for (const BenchV2Result::MethodRow& m : r.methods) {
    methods.push_back({{"method", m.method},
                       {"hotspots", m.hotspots.to_json()},
                       {"with_regions", m.with_regions.to_json()}});
  }
  for (const RealPhotoResult& p : r.real) {
    real.push_back({{"path", p.path},
                    {"negative", p.negative},
                    {"kind", p.kind},
                    {"detection", p.det.to_json()},
                    {"covered", p.covered}});
  }
  return {{"benchmark", "v2"},
          {"split", r.config.on_tune ? "tune" : "eval"},
          {"settings",
           {{"mode", s.mode},
            {"polarity", s.polarity},
            {"scales", s.scales},
            {"reader", s.reader},
            {"min_score", s.min_score},
            {"min_score_alone", s.min_score_alone},
            {"real", s.real_file}}},
          {"detector", r.eval.to_json()},
          {"phone", r.phone.to_json()},
          {"text", r.text.to_json()},
          {"methods", methods},
          {"regions_only", r.regions_only.to_json()},
          {"real_photos", real}};
}

std::string write_bench_v2(const std::string& dir, const std::string& name,
                           const BenchV2Result& r, const LocBenchSettings& s) {
  const std::string md = bench_v2_markdown(r, s);
  atomic_write_text(dir + "/" + name + ".md", md);
  atomic_write_text(dir + "/" + name + ".json", bench_v2_json(r, s).dump(2) + "\n");
  return md;
}

}  // namespace adgap
