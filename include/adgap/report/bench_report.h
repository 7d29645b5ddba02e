// The benchmarks' result files: Markdown tables, JSON and the figure grid of the localisation
// benchmark, and the per-mode table of the scene evaluation.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "adgap/eval/bench_v2.h"
#include "adgap/eval/loc_bench.h"

namespace adgap {

// What the benchmark's caption and JSON say about adgap's own settings.
struct LocBenchSettings {
  std::string mode, polarity, border;
  std::vector<double> scales;
  std::string reader;  // path, empty when none
  double min_score = 0;
  std::string real_file;  // the annotations, empty when none
  double min_score_alone = 0;  // v2: a digit that is not part of a number
};
LocBenchSettings settings_of(const Detector& det, const std::string& real_file);

std::string loc_bench_markdown(const LocBenchResult& r, const LocBenchSettings& s);
nlohmann::json loc_bench_json(const LocBenchResult& r, const LocBenchSettings& s);
// The first scenes, one column per method (empty Mat when no scene was kept).
cv::Mat loc_bench_grid(const LocBenchResult& r);

// Writes <dir>/<name>.md, <name>.json and, with a grid, <name>_grid.png; returns the Markdown.
std::string write_loc_bench(const std::string& dir, const std::string& name,
                            const LocBenchResult& r, const LocBenchSettings& s);

// Benchmark v2's tables (detector, phone-size scenes, conditions, maps compared, real photos)
// and JSON; write_bench_v2 writes <dir>/<name>.{md,json} and returns the Markdown.
std::string bench_v2_markdown(const BenchV2Result& r, const LocBenchSettings& s);
nlohmann::json bench_v2_json(const BenchV2Result& r, const LocBenchSettings& s);
std::string write_bench_v2(const std::string& dir, const std::string& name,
                           const BenchV2Result& r, const LocBenchSettings& s);

// "| mode | precision | recall | F1 | reading accuracy | label accuracy |" rows.
std::string map_modes_markdown(const std::vector<ModeResult>& rows);

// What the scene evaluation's caption and JSON say about its setup.
struct SceneEvalInfo {
  std::string model;
  int64_t first_seed = 0;
  std::vector<int> digit_height;  // {min, max} px
  std::string polarity, threshold;
  double k = 0, min_score = 0;
};
nlohmann::json scene_eval_json(const std::vector<ModeResult>& rows,
                               const std::vector<Scene>& scenes, const SceneEvalInfo& info);
std::string scene_eval_markdown(const std::vector<ModeResult>& rows,
                                const std::vector<Scene>& scenes, const SceneEvalInfo& info);

// "1,0.5,0.25"
std::string join_scales(const std::vector<double>& scales);

}  // namespace adgap
