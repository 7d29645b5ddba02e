// Options shared by `heatmap`, `detect`, `eval-scenes`, `bench-loc` and `train-reader`: which
// model and files, how the map is made and thresholded, how candidates are read. They fill the
// library's adgap::Options, whose defaults they show.
#pragma once

#include <string>
#include <vector>

#include "adgap/adgap.h"
#include "args.h"

namespace adgap::cli {

struct MapOptions {
  std::string model;        // empty: find_model() (adgap's own models)
  Options lib;              // the library's settings
  std::string out = "out";  // output directory
  int64_t threads = 0;      // intra-op threads, 0 = one per core
  int64_t max_pixels = 0;   // images declaring more pixels are refused (0: the default)

  // Adds the options to `args`; `detection` adds the candidate and reading ones too.
  void add_to(Args& args, bool detection);
  // Sets the threads and loads the localizer; a bad option value is a UsageError.
  Localizer load();

 private:
  int64_t cls_ = -1, tile_ = 512, merge_gap_ = 3, min_size_ = 8, word_letters_ = 1;
  std::string scales_;
};

// Splits a comma-separated list, dropping empty items.
std::vector<std::string> split_list(const std::string& s);

// <out>/<file stem><suffix>
std::string output_path(const std::string& out_dir, const std::string& image,
                        const std::string& suffix);

}  // namespace adgap::cli
