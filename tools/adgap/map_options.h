// Options shared by `heatmap` and `detect`: which model and weights, how the map is made and
// thresholded. Parsed into the library's config structs by resolve().
#pragma once

#include <string>
#include <vector>

#include "adgap/detect/detect.h"
#include "adgap/importance/importance.h"
#include "adgap/methods/methods.h"
#include "adgap/model/model_file.h"
#include "args.h"

namespace adgap::cli {

struct MapOptions {
  std::string model = "runs/demo/model.pt";  // from `adgap train` / `adgap demo`
  std::string weights;                       // default: weights.json beside the model
  std::string method = "adgap";              // adgap or a baseline (src/methods/methods.h)
  std::string mode = "paper";                // paper | pooled | dense
  std::string polarity = "auto";             // auto | light-on-dark | dark-on-light | both
  std::string border = "replicate";          // replicate | zero (the reference's padding)
  std::string threshold = "mean-std";        // mean-std | fixed | otsu
  double k = 2.0;                            // mean + k * std (paper: 2)
  double level = 0.5;                        // fixed threshold level
  int64_t cls = -1;                          // class-specific weights; -1: global
  bool by_error = false;                     // weights from the 0/1-error rise, not the loss
  std::string reader;       // reader model (adgap train-reader); default: reader/model.pt beside
                            //   the model when it exists; "none": classify with the model itself
  int64_t tile = 512;       // tile edge in pixels, 0: untiled
  std::string out = "out";  // output directory
  int64_t threads = 0;

  void add_to(Args& args);
};

struct MapSetup {
  LoadedModel model;
  FilterImportance importance;  // the weights file, all weightings
  std::vector<float> weights;   // the ones the options pick
  DetectConfig cfg;             // heatmap and threshold parts filled in
  std::string reader_path;      // the reader in use, empty when none
  Method method = Method::kAdgap;

  // The chosen method's [0, 1] map of an 8-bit gray image (adgap honours --class and
  // --by-error; the baselines use their own weights).
  cv::Mat map(const cv::Mat& gray);
};

// Validates the option values, loads model and weights. Throws UsageError / runtime_error.
MapSetup resolve(const MapOptions& o);

// A comma-separated list of pyramid scales, each in (0.05, 4]; throws UsageError.
std::vector<double> parse_scales(const std::string& s);

// Checks every image can be read (header and decode) before anything is written.
void check_images(const std::vector<std::string>& paths);

// <out>/<file stem><suffix>
std::string output_path(const std::string& out_dir, const std::string& image,
                        const std::string& suffix);

}  // namespace adgap::cli
