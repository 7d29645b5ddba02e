#include "adgap/detect/detector.h"

#include <cmath>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "adgap/detect/numbers.h"
#include "adgap/detect/reader.h"
#include "adgap/io/image.h"
#include "adgap/util/threads.h"

namespace adgap {

namespace {

void check_range(const char* name, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi)) {
    throw std::invalid_argument(std::string(name) + " " + std::to_string(v) + " is out of range [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

// The file an Options path names: itself; "none": none (empty); empty: `beside` when it
// exists, else none.
std::string given_or_beside(const std::string& given, const std::string& beside) {
  if (given == "none") return "";
  if (!given.empty()) return given;
  return std::filesystem::exists(beside) ? beside : "";
}

// The message without a leading "<path>: " (results carry the path beside it).
std::string without_path(const std::string& msg, const std::string& path) {
  const std::string first = msg.substr(0, msg.find('\n'));
  const std::string prefix = path + ": ";
  return first.compare(0, prefix.size(), prefix) == 0 ? first.substr(prefix.size()) : first;
}

}  // namespace

std::vector<Digit> to_digits(const std::vector<Detection>& dets) {
  std::vector<Digit> out;
  out.reserve(dets.size());
  for (const Detection& d : dets) {
    out.push_back({{d.box.x, d.box.y, d.box.width, d.box.height}, d.label, d.score});
  }
  return out;
}

std::vector<Detection> to_detections(const std::vector<Digit>& digits) {
  std::vector<Detection> out;
  out.reserve(digits.size());
  for (const Digit& d : digits) {
    out.push_back({{d.box.x, d.box.y, d.box.width, d.box.height}, d.label, d.score});
  }
  return out;
}

std::vector<Number> numbers_in(const std::vector<Digit>& digits, const cv::Mat& gray) {
  std::vector<Number> out;
  for (const SeparatedNumber& n : read_separated_numbers(gray, to_detections(digits))) {
    const NumberGroup& g = n.group;
    out.push_back({{g.box.x, g.box.y, g.box.width, g.box.height}, g.text, g.digits, g.score,
                   n.separators});
  }
  return out;
}

ImageResult detect_image_file(const Detector& d, const std::string& path, cv::Mat* bgr_out) {
  ImageResult r;
  r.path = path;
  try {
    const cv::Mat bgr = load_bgr(path);
    r.width = bgr.cols;
    r.height = bgr.rows;
    const cv::Mat gray = to_gray(bgr);
    r.detections = to_digits(d.detect(gray));
    r.numbers = numbers_in(r.detections, gray);
    if (bgr_out) *bgr_out = bgr;
  } catch (const std::exception& e) {  // this image is lost, not the batch
    r = ImageResult{};
    r.path = path;
    r.error = without_path(e.what(), path);
  }
  return r;
}

std::string weights_beside(const std::string& model_path) {
  return (std::filesystem::path(model_path).parent_path() / "weights.json").string();
}

std::string reader_beside(const std::string& model_path) {
  return adgap::model_path((std::filesystem::path(model_path).parent_path() / "reader").string());
}

std::string first_reader_beside(const std::string& reader_path) {
  return adgap::model_path((std::filesystem::path(reader_path).parent_path() / "first").string());
}

std::string letter_reader_beside(const std::string& reader_path) {
  return adgap::model_path((std::filesystem::path(reader_path).parent_path() / "letters").string());
}

std::string verifier_beside(const std::string& reader_path) {
  return adgap::model_path((std::filesystem::path(reader_path).parent_path() / "verifier").string());
}

Detector make_detector(const std::string& model_path, const Options& o) {
  configure_allocator();
  Detector d;
  d.options = o;
  d.model_path = model_path;
  DetectConfig& c = d.cfg;
  c.heatmap.mode = parse_map_mode(o.mode);
  c.heatmap.polarity = parse_polarity(o.polarity);
  c.threshold.kind = parse_threshold(o.threshold);
  d.method = parse_method(o.method);
  if (o.border != "replicate" && o.border != "zero") {
    throw std::invalid_argument("border '" + o.border + "' is neither 'replicate' nor 'zero'");
  }
  c.heatmap.border = o.border == "zero" ? Border::kZero : Border::kReplicate;
  if (o.proposals != "auto" && o.proposals != "map" && o.proposals != "regions") {
    throw std::invalid_argument("proposals '" + o.proposals +
                                "' is not one of auto, map, regions");
  }
  c.proposals = o.proposals == "regions" ? ProposalKind::kRegions : ProposalKind::kMap;
  check_range("tile", o.tile, 0, 1 << 20);
  c.heatmap.tile = o.tile;
  c.heatmap.reference = o.libtorch_kernels;
  check_range("k", o.k, -10, 10);
  c.threshold.k = o.k;
  check_range("threshold level", o.level, 0, 1);
  c.threshold.level = o.level;
  if (o.min_score >= 0) check_range("minimum score", o.min_score, 0, 1);
  if (o.min_score_alone >= 0) check_range("minimum score alone", o.min_score_alone, 0, 1);
  check_range("merge gap", o.merge_gap, 0, 1000);
  c.merge_gap = o.merge_gap;
  check_range("minimum size", o.min_size, 1, 100000);
  c.min_size = o.min_size;
  if (o.scales.empty()) throw std::invalid_argument("no pyramid scale given");
  for (double s : o.scales) {
    if (!(s > 0.05 && s <= 4)) {
      throw std::invalid_argument("pyramid scale " + std::to_string(s) + " is not in (0.05, 4]");
    }
  }
  d.scales = o.scales;

  d.model = load_model(model_path);
  c.heatmap.input_scale = d.model.meta.input_scale;
  c.heatmap.input_offset = d.model.meta.input_offset;
  d.weights_path = o.weights.empty() ? weights_beside(model_path) : o.weights;
  d.importance = load_importance(d.weights_path);
  if (d.method == Method::kCam && d.importance.cam_weights.empty()) {
    throw std::invalid_argument("method cam: " + d.weights_path +
                                " holds no CAM classifier (made by `adgap weights --cam`)");
  }
  const int64_t classes = d.model.meta.num_classes;
  if (d.importance.classes != classes) {
    throw std::runtime_error(d.weights_path + ": has " + std::to_string(d.importance.classes) +
                             " classes but " + model_path + " has " + std::to_string(classes));
  }
  if (d.importance.channels != d.model.meta.widths.conv2) {
    throw std::runtime_error(d.weights_path + ": has weights for " +
                             std::to_string(d.importance.channels) + " filters but " + model_path +
                             " has " + std::to_string(d.model.meta.widths.conv2));
  }
  if (o.cls < -1 || o.cls >= classes) {
    throw std::invalid_argument("class " + std::to_string(o.cls) + " is out of range [0, " +
                                std::to_string(classes) + ") (-1: global weights)");
  }
  d.weights = d.importance.weights(o.cls, o.by_error);
  const std::string reader = given_or_beside(o.reader, reader_beside(model_path));
  if (reader.empty() && o.reader != "none") {
    d.missing_reader = model_path + ": no reader beside it (" + reader_beside(model_path) +
                       "), and without one the model reads grid lines and letters as digits: "
                       "use adgap's own models (leave out --model), make one with `adgap "
                       "train-reader --model " + model_path + "`, or give --reader none";
  }
  if (!reader.empty()) {
    const LoadedModel r = load_reader(reader, classes);
    c.reader = r.net;
    d.reader_path = reader;
    // auto: region proposals when the reader was trained on them.
    if (o.proposals == "auto" && r.meta.dataset == kRegionReaderData) {
      c.proposals = ProposalKind::kRegions;
    }
    d.first_reader_path = given_or_beside(o.first_reader, first_reader_beside(reader));
    if (!d.first_reader_path.empty()) {
      c.first_reader = load_reader(d.first_reader_path, classes).net;
    }
    d.verifier_path = given_or_beside(o.verifier, verifier_beside(reader));
    if (!d.verifier_path.empty()) {
      c.verifier = load_reader(d.verifier_path, classes).net;
    }
    d.letter_reader_path = given_or_beside(o.letter_reader, letter_reader_beside(reader));
    if (!d.letter_reader_path.empty()) {
      c.letter_reader = load_letter_reader(d.letter_reader_path).net;
    }
  }
  check_range("first reader's rejection level", o.first_reject, 0, 1);
  c.first_reject = o.first_reject;
  check_range("verifier's gate", o.verify_gate, 0, 1);
  c.verify_gate = o.verify_gate;
  check_range("word gap", o.word_gap, 0, 10);
  c.word_gap = o.word_gap;
  check_range("letter level", o.letter_level, 0, 1);
  c.letter_level = o.letter_level;
  check_range("word letters", o.word_letters, 1, 10);
  c.word_letters = o.word_letters;
  const bool verified = !c.verifier.is_empty();
  c.min_score = o.min_score >= 0 ? o.min_score : verified ? kMinScoreVerified : kMinScore;
  c.min_score_alone = o.min_score_alone >= 0 ? o.min_score_alone
                      : verified                ? kMinScoreAloneVerified
                                                : kMinScoreAlone;
  return d;
}

void Detector::require_reader() const {
  if (!missing_reader.empty()) throw std::runtime_error(missing_reader);
}

cv::Mat Detector::map(const cv::Mat& gray) const { return map(gray, cfg.heatmap); }

cv::Mat Detector::map(const cv::Mat& gray, const HeatmapConfig& h) const {
  LeNet net = model.net;  // a handle: the network is shared, not copied
  if (method == Method::kAdgap) return heatmap(net, gray, weights, h);
  return method_map(method, net, importance, gray, h);
}

std::vector<Detection> Detector::detect(const cv::Mat& gray) const { return detect(gray, cfg); }

std::vector<Detection> Detector::detect(const cv::Mat& gray, cv::Mat* full_map) const {
  if (!full_map) return detect(gray, cfg);
  LeNet net = model.net;
  std::mutex kept;  // scales may be mapped on several threads
  *full_map = cv::Mat();
  std::vector<Detection> out = detect_at_scales(
      net, gray,
      [&](const cv::Mat& g) {
        cv::Mat m = map(g, cfg.heatmap);
        if (g.size() == gray.size()) {
          std::lock_guard<std::mutex> lock(kept);
          if (full_map->empty()) *full_map = m;
        }
        return m;
      },
      cfg, scales, nullptr);
  if (full_map->empty()) *full_map = map(gray);  // no full-scale pass (e.g. scales {0.5})
  return out;
}

std::vector<Detection> Detector::detect(const cv::Mat& gray, const DetectConfig& c,
                                        std::vector<cv::Rect>* candidates) const {
  LeNet net = model.net;
  return detect_at_scales(
      net, gray, [&](const cv::Mat& g) { return map(g, c.heatmap); }, c, scales, candidates);
}

}  // namespace adgap
