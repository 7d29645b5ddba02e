// The public API (adgap/adgap.h) over the detection pipeline (adgap/detect/detector.h).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <stdexcept>

#include "adgap/adgap.h"
#include "adgap/detect/detector.h"
#include "adgap/detect/numbers.h"
#include "adgap/io/image.h"
#include "adgap/io/limits.h"
#include "adgap/util/threads.h"

namespace adgap {

namespace {

// An 8-bit gray cv::Mat for a view (no copy for gray input).
cv::Mat gray_of(const ImageView& v) {
  if (!v.data) throw std::invalid_argument("image: no pixel data");
  if (v.width <= 0 || v.height <= 0) {
    throw std::invalid_argument("image: size " + std::to_string(v.width) + "x" +
                                std::to_string(v.height) + " is empty");
  }
  if (int64_t{v.width} * v.height > max_image_pixels()) {
    throw std::invalid_argument("image: " + std::to_string(v.width) + "x" +
                                std::to_string(v.height) + " pixels, over the limit of " +
                                std::to_string(max_image_pixels()));
  }
  if (v.channels != 1 && v.channels != 3 && v.channels != 4) {
    throw std::invalid_argument("image: " + std::to_string(v.channels) +
                                " channels; expected 1 (gray), 3 (BGR) or 4 (BGRA)");
  }
  const size_t packed = static_cast<size_t>(v.width) * v.channels;
  if (v.stride != 0 && v.stride < packed) {
    throw std::invalid_argument("image: row stride " + std::to_string(v.stride) +
                                " is shorter than a row of " + std::to_string(packed) + " bytes");
  }
  const cv::Mat m(v.height, v.width, CV_8UC(v.channels), const_cast<uint8_t*>(v.data),
                  v.stride ? v.stride : packed);
  return to_gray(m);
}

Heatmap heatmap_of(const cv::Mat& h) {
  Heatmap out;
  out.width = h.cols;
  out.height = h.rows;
  out.values.resize(static_cast<size_t>(h.total()));
  for (int y = 0; y < h.rows; ++y) {
    std::copy(h.ptr<float>(y), h.ptr<float>(y) + h.cols, out.values.data() + size_t(y) * h.cols);
  }
  return out;
}

// Compact JSON; bytes that are not UTF-8 (a file name's) become U+FFFD instead of throwing.
std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Localizer::Localizer(std::unique_ptr<Detector> d) : d_(std::move(d)) {}
Localizer::Localizer(Localizer&&) noexcept = default;
Localizer& Localizer::operator=(Localizer&&) noexcept = default;
Localizer::~Localizer() = default;

Localizer Localizer::load(const std::string& model_path, const Options& options) {
  return Localizer(std::make_unique<Detector>(make_detector(model_path, options)));
}

Heatmap Localizer::heatmap(const ImageView& image) const {
  return heatmap_of(d_->map(gray_of(image)));
}

std::vector<Digit> Localizer::detect(const ImageView& image) const {
  return to_digits(d_->detect(gray_of(image)));
}

std::vector<Digit> Localizer::detect(const ImageView& image, Heatmap* map) const {
  if (!map) return detect(image);
  cv::Mat full;
  std::vector<Digit> out = to_digits(d_->detect(gray_of(image), &full));
  *map = heatmap_of(full);
  return out;
}

DecodedImage decode_image(const void* data, size_t size, const std::string& name) {
  const auto* p = static_cast<const uint8_t*>(data);
  cv::Mat bgr;
  try {
    bgr = decode_bgr(std::vector<uint8_t>(p, p + size), name);
  } catch (const ImageTooLargeError& e) {
    throw ImageTooLarge(e.what());
  } catch (const ImageError& e) {
    throw std::invalid_argument(e.what());
  }
  DecodedImage out;
  out.width = bgr.cols;
  out.height = bgr.rows;
  out.bgr.resize(bgr.total() * 3);
  for (int y = 0; y < bgr.rows; ++y) {
    std::copy(bgr.ptr<uint8_t>(y), bgr.ptr<uint8_t>(y) + size_t(bgr.cols) * 3,
              out.bgr.data() + size_t(y) * bgr.cols * 3);
  }
  return out;
}

ImageResult Localizer::detect_file(const std::string& path) const {
  return detect_image_file(*d_, path);
}

const Options& Localizer::options() const { return d_->options; }
const std::string& Localizer::model_path() const { return d_->model_path; }
const std::string& Localizer::weights_path() const { return d_->weights_path; }
const std::string& Localizer::reader_path() const { return d_->reader_path; }
const Detector& Localizer::detector() const { return *d_; }

std::string to_json(const ImageResult& r) {
  nlohmann::ordered_json j;
  j["path"] = r.path;
  if (!r.ok()) {
    j["error"] = r.error;
    return dump(j);
  }
  j["width"] = r.width;
  j["height"] = r.height;
  nlohmann::ordered_json dets = nlohmann::ordered_json::array();
  for (const Digit& d : r.detections) {
    dets.push_back({{"box", {d.box.x, d.box.y, d.box.width, d.box.height}},
                    {"label", d.label},
                    {"score", d.score}});
  }
  j["detections"] = dets;
  nlohmann::ordered_json nums = nlohmann::ordered_json::array();
  for (const Number& n : r.numbers) {
    nums.push_back({{"box", {n.box.x, n.box.y, n.box.width, n.box.height}},
                    {"text", n.text},
                    {"digits", n.digits},
                    {"score", n.score}});
  }
  j["numbers"] = nums;
  return dump(j);
}

ImageResult image_result_from_json(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("not a JSON object");
  auto box_of = [](const nlohmann::json& b) -> Box {
    return {b.at(0).get<int>(), b.at(1).get<int>(), b.at(2).get<int>(), b.at(3).get<int>()};
  };
  ImageResult r;
  try {
    r.path = j.at("path").get<std::string>();
    if (j.contains("error")) {
      r.error = j.at("error").get<std::string>();
      return r;
    }
    r.width = j.at("width").get<int>();
    r.height = j.at("height").get<int>();
    for (const auto& d : j.at("detections")) {
      r.detections.push_back(
          {box_of(d.at("box")), d.at("label").get<int>(), d.at("score").get<float>()});
    }
    for (const auto& n : j.value("numbers", nlohmann::json::array())) {  // absent before numbers
      r.numbers.push_back({box_of(n.at("box")), n.at("text").get<std::string>(),
                           n.at("digits").get<std::vector<int>>(), n.at("score").get<float>()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not an image result (") + e.what() + ")");
  }
  return r;
}

std::vector<Number> read_numbers(const std::vector<Digit>& digits) {
  std::vector<Number> out;
  for (const NumberGroup& g : group_numbers(to_detections(digits))) {
    out.push_back({{g.box.x, g.box.y, g.box.width, g.box.height}, g.text, g.digits, g.score});
  }
  return out;
}

void set_num_threads(int n) {
  if (n < 0) throw std::invalid_argument("thread count " + std::to_string(n) + " is negative");
  configure_threads(n);
}

}  // namespace adgap
