#include "map_options.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "adgap/importance/importance.h"
#include "adgap/io/image.h"
#include "adgap/util/threads.h"

namespace adgap::cli {

void MapOptions::add_to(Args& args) {
  args.text("model", &model, "FILE", "trained model");
  args.text("weights", &weights, "FILE",
            "filter weights from `adgap weights` (default: beside the model)");
  args.text("method", &method, "NAME",
            "adgap, adgap-paper, cam, grad-cam, grad-cam++, ablation-cam, score-cam, "
            "mean-activation, ccgap, uniform, sobel or mser (the class-activation ones run "
            "untiled)");
  args.text("mode", &mode, "MODE", "full-resolution maps: paper (pools removed), pooled, dense");
  args.text("polarity", &polarity, "P", "auto, light-on-dark, dark-on-light or both (fused)");
  args.text("border", &border, "B", "beyond the image edge: replicate, or zero (the reference)");
  args.integer("class", &cls, -1, 255, "use class C's weights (-1: global)");
  args.flag("by-error", &by_error, "weights from the 0/1-error rise instead of the loss rise");
  args.text("threshold", &threshold, "T", "mean-std (paper), fixed or otsu");
  args.real("k", &k, -10, 10, "mean-std threshold: mean + k * std");
  args.real("level", &level, 0, 1, "fixed threshold level on the [0,1] map");
  args.text("reader", &reader, "FILE",
            "reader with a 'not a digit' class (default: reader/model.pt beside the model if "
            "present; none: the model itself)");
  args.integer("tile", &tile, 0, 1 << 20, "tile edge in pixels (0: untiled)");
  args.text("out", &out, "DIR", "output directory");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
}

MapSetup resolve(const MapOptions& o) {
  MapSetup s;
  try {
    s.cfg.heatmap.mode = parse_map_mode(o.mode);
    s.cfg.heatmap.polarity = parse_polarity(o.polarity);
    s.cfg.threshold.kind = parse_threshold(o.threshold);
    s.method = parse_method(o.method);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (o.border != "replicate" && o.border != "zero") {
    throw UsageError("--border: '" + o.border + "' is neither 'replicate' nor 'zero'");
  }
  s.cfg.heatmap.border = o.border == "zero" ? Border::kZero : Border::kReplicate;
  s.cfg.heatmap.tile = o.tile;
  s.cfg.threshold.k = o.k;
  s.cfg.threshold.level = o.level;
  configure_threads(static_cast<int>(o.threads));
  s.model = load_model(o.model);
  s.cfg.heatmap.input_scale = s.model.meta.input_scale;
  s.cfg.heatmap.input_offset = s.model.meta.input_offset;
  const std::string wpath =
      o.weights.empty() ? (std::filesystem::path(o.model).parent_path() / "weights.json").string()
                        : o.weights;
  s.importance = load_importance(wpath);
  const FilterImportance& imp = s.importance;
  if (imp.classes != s.model.meta.num_classes) {
    throw std::runtime_error(wpath + ": has " + std::to_string(imp.classes) + " classes but " +
                             o.model + " has " + std::to_string(s.model.meta.num_classes));
  }
  if (o.cls >= imp.classes) {
    throw UsageError("--class: " + std::to_string(o.cls) + " is out of range [0, " +
                     std::to_string(imp.classes) + ")");
  }
  s.weights = imp.weights(o.cls, o.by_error);
  std::string reader = o.reader;
  if (reader.empty()) {
    const auto beside = std::filesystem::path(o.model).parent_path() / "reader" / "model.pt";
    if (std::filesystem::exists(beside)) reader = beside.string();
  }
  if (!reader.empty() && reader != "none") {
    LoadedModel r = load_model(reader);
    if (r.meta.num_classes != s.model.meta.num_classes + 1) {
      throw std::runtime_error(reader + ": has " + std::to_string(r.meta.num_classes) +
                               " classes, a reader for " + o.model + " needs " +
                               std::to_string(s.model.meta.num_classes + 1));
    }
    s.cfg.reader = r.net;
    s.reader_path = reader;
  }
  return s;
}

std::vector<double> parse_scales(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end || !(v > 0.05 && v <= 4)) {
      throw UsageError("--scales: '" + item + "' is not a scale in (0.05, 4]");
    }
    out.push_back(v);
  }
  if (out.empty()) throw UsageError("--scales: no scale given");
  return out;
}

cv::Mat MapSetup::map(const cv::Mat& gray) {
  if (method == Method::kAdgap) return heatmap(model.net, gray, weights, cfg.heatmap);
  return method_map(method, model.net, importance, gray, cfg.heatmap);
}

void check_images(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) load_bgr(p);
}

std::string output_path(const std::string& out_dir, const std::string& image,
                        const std::string& suffix) {
  return (std::filesystem::path(out_dir) / (std::filesystem::path(image).stem().string() + suffix))
      .string();
}

}  // namespace adgap::cli
