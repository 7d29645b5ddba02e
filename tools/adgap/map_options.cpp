#include "map_options.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "adgap/io/image.h"
#include "adgap/io/limits.h"
#include "adgap/report/bench_report.h"

namespace adgap::cli {

void MapOptions::add_to(Args& args, bool detection) {
  cls_ = lib.cls;
  tile_ = lib.tile;
  merge_gap_ = lib.merge_gap;
  min_size_ = lib.min_size;
  word_letters_ = lib.word_letters;
  scales_ = join_scales(lib.scales);
  args.text("model", &model, "FILE",
            "trained model (default: $ADGAP_MODEL, else adgap's own models/model.safetensors)");
  args.text("weights", &lib.weights, "FILE",
            "filter weights from `adgap weights` (default: beside the model)");
  args.text("method", &lib.method, "NAME",
            "adgap, adgap-paper, cam, grad-cam, grad-cam++, ablation-cam, score-cam, "
            "mean-activation, ccgap, uniform, sobel or mser (the class-activation ones run "
            "untiled)");
  args.text("mode", &lib.mode, "MODE",
            "full-resolution maps: paper (pools removed), pooled, dense");
  args.text("polarity", &lib.polarity, "P", "auto, light-on-dark, dark-on-light or both (fused)");
  args.text("border", &lib.border, "B",
            "beyond the image edge: replicate, or zero (the reference)");
  args.integer("class", &cls_, -1, 255, "use class C's weights (-1: global)");
  args.flag("by-error", &lib.by_error, "weights from the 0/1-error rise instead of the loss rise");
  args.text("threshold", &lib.threshold, "T", "mean-std (paper), fixed or otsu");
  args.real("k", &lib.k, -10, 10, "mean-std threshold: mean + k * std");
  args.real("level", &lib.level, 0, 1, "fixed threshold level on the [0,1] map");
  args.text("reader", &lib.reader, "FILE",
            "reader with a 'not a digit' class (default: reader/model.safetensors beside the "
            "model; detection is refused without one; none: the model itself reads)");
  args.integer("tile", &tile_, 0, 1 << 20, "tile edge in pixels (0: untiled)");
  args.flag("libtorch-kernels", &lib.libtorch_kernels,
            "paper-mode maps on LibTorch's convolutions (the reference) instead of adgap's own "
            "kernel");
  args.text("out", &out, "DIR", "output directory");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.integer("max-pixels", &max_pixels, 0, kMaxImagePixels,
               "images declaring more pixels are refused before decoding (0: $ADGAP_MAX_PIXELS, "
               "else 2^30)");
  if (!detection) return;
  args.text("proposals", &lib.proposals, "P",
            "candidates: map (the map's hotspots), regions (hotspots and stroke regions, read "
            "with their surroundings by a reader trained so) or auto (regions when the reader "
            "was trained on them)");
  args.text("first-reader", &lib.first_reader, "FILE",
            "regions: a cheaper reader run first (default: first/model.safetensors beside the reader if "
            "present; none: off)");
  args.real("first-reject", &lib.first_reject, 0, 1,
            "regions: crops the first reader gives P(not a digit) >= this are not read further");
  args.text("verifier", &lib.verifier, "FILE",
            "regions: a larger reader that reads again the crops the reader does not reject "
            "(default: verifier/model.safetensors beside the reader if present; none: off)");
  args.real("verify-gate", &lib.verify_gate, 0, 1,
            "regions: crops the reader gives P(not a digit) below this go to the verifier");
  args.text("letter-reader", &lib.letter_reader, "FILE",
            "regions: a letter reader; a number with letters beside it is part of a word and "
            "dropped (default: letters/model.safetensors beside the reader if present; none: off)");
  args.real("letter-level", &lib.letter_level, 0, 1,
            "regions: boxes the letter reader gives P(letter) >= this are letters");
  args.real("word-gap", &lib.word_gap, 0, 10,
            "regions: letters count within this gap (of the digit's height) of a number");
  args.integer("word-letters", &word_letters_, 1, 10,
               "regions: letters in a row on one side of a number that make it part of a word "
               "(one on each side always do)");
  args.real("min-score", &lib.min_score, -1, 1,
            "minimum probability to keep a detection (-1: 0.8, or 0.5 with a verifier)");
  args.real("min-score-alone", &lib.min_score_alone, -1, 1,
            "regions: minimum probability of a digit that is not part of a number (-1: 0.97, "
            "or 0.9 with a verifier)");
  args.integer("merge-gap", &merge_gap_, 0, 1000, "px: hotspot fragments closer than this merge");
  args.integer("min-size", &min_size_, 1, 100000, "px: smaller candidates are dropped");
  args.text("scales", &scales_, "LIST", "image pyramid scales, e.g. 1 for a single scale");
}

Localizer MapOptions::load() {
  lib.cls = static_cast<int>(cls_);
  lib.tile = static_cast<int>(tile_);
  lib.merge_gap = static_cast<int>(merge_gap_);
  lib.min_size = static_cast<int>(min_size_);
  lib.word_letters = static_cast<int>(word_letters_);
  lib.scales.clear();
  std::stringstream list(scales_);
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end || !(v > 0.05 && v <= 4)) {
      throw UsageError("--scales: '" + item + "' is not a scale in (0.05, 4]");
    }
    lib.scales.push_back(v);
  }
  if (lib.scales.empty()) throw UsageError("--scales: no scale given");
  set_num_threads(static_cast<int>(threads));
  if (max_pixels > 0) set_max_image_pixels(max_pixels);
  try {
    return Localizer::load(model, lib);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string output_path(const std::string& out_dir, const std::string& image,
                        const std::string& suffix) {
  return (std::filesystem::path(out_dir) / (std::filesystem::path(image).stem().string() + suffix))
      .string();
}

}  // namespace adgap::cli
