// The public API (adgap/adgap.h) over the detection pipeline (adgap/detect/detector.h).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "adgap/adgap.h"
#include "adgap/detect/detector.h"
#include "adgap/detect/numbers.h"
#include "adgap/io/image.h"
#include "adgap/io/limits.h"
#include "adgap/util/json_int.h"
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

constexpr int kModelSearchLevels = 5;  // parents of the executable's and library's folders

}  // namespace

std::vector<std::string> model_search_dirs() {
  namespace fs = std::filesystem;
  std::vector<fs::path> bases;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) bases.push_back(exe.parent_path());
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&model_search_dirs), &info) && info.dli_fname) {
    const fs::path lib = fs::weakly_canonical(info.dli_fname, ec);
    if (!ec) bases.push_back(lib.parent_path());
  }
  std::vector<std::string> out;
  const auto add = [&out](const fs::path& d) {
    const std::string s = d.lexically_normal().string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const fs::path& base : bases) {
    fs::path d = base;
    for (int level = 0; level <= kModelSearchLevels; ++level) {
      add(d / "models");
      add(d / "share" / "adgap" / "models");
      if (!d.has_parent_path() || d.parent_path() == d) break;
      d = d.parent_path();
    }
  }
  return out;
}

std::string find_model() {
  if (const char* env = std::getenv("ADGAP_MODEL"); env && *env) return env;
  const std::vector<std::string> dirs = model_search_dirs();
  for (const std::string& d : dirs) {
    const std::string file = d + "/model.safetensors";
    if (std::filesystem::is_regular_file(file)) return file;
  }
  throw std::runtime_error(
      "no model given and none found: pass a model file (--model FILE), set ADGAP_MODEL, or "
      "build or install adgap, whose models/ are looked for as " +
      (dirs.empty() ? std::string("(no folder known)") : dirs.front() + "/model.safetensors") +
      " and " + std::to_string(dirs.size() > 0 ? dirs.size() - 1 : 0) + " more places");
}

Localizer::Localizer(std::unique_ptr<Detector> d) : d_(std::move(d)) {}
Localizer::Localizer(Localizer&&) noexcept = default;
Localizer& Localizer::operator=(Localizer&&) noexcept = default;
Localizer::~Localizer() = default;

Localizer Localizer::load(const std::string& model_path, const Options& options) {
  return Localizer(std::make_unique<Detector>(
      make_detector(model_path.empty() ? find_model() : model_path, options)));
}

Heatmap Localizer::heatmap(const ImageView& image) const {
  return heatmap_of(d_->map(gray_of(image)));
}

std::vector<Digit> Localizer::detect(const ImageView& image) const {
  d_->require_reader();
  return to_digits(d_->detect(gray_of(image)));
}

std::vector<Digit> Localizer::detect(const ImageView& image, Heatmap* map) const {
  if (!map) return detect(image);
  d_->require_reader();
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
  d_->require_reader();
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
    if (!n.separators.empty()) nums.back()["separators"] = n.separators;
  }
  j["numbers"] = nums;
  return dump(j);
}

ImageResult image_result_from_json(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("not a JSON object");
  const auto int_of = [](const nlohmann::json& v) {
    return static_cast<int>(json_int(v, INT_MIN, INT_MAX));
  };
  const auto score_of = [](const nlohmann::json& v) {
    const double x = v.is_number() ? v.get<double>() : HUGE_VAL;
    if (!(std::abs(x) <= FLT_MAX)) throw JsonIntError(json_brief(v) + " is not a score");
    return static_cast<float>(x);
  };
  const auto box_of = [&](const nlohmann::json& b) -> Box {
    if (!b.is_array() || b.size() != 4) throw JsonIntError("a box is not 4 integers");
    return {int_of(b.at(0)), int_of(b.at(1)), int_of(b.at(2)), int_of(b.at(3))};
  };
  ImageResult r;
  try {
    r.path = j.at("path").get<std::string>();
    if (j.contains("error")) {
      r.error = j.at("error").get<std::string>();
      return r;
    }
    r.width = int_of(j.at("width"));
    r.height = int_of(j.at("height"));
    for (const auto& d : j.at("detections")) {
      r.detections.push_back({box_of(d.at("box")), int_of(d.at("label")), score_of(d.at("score"))});
    }
    for (const auto& n : j.value("numbers", nlohmann::json::array())) {  // absent before numbers
      std::vector<int> digits;
      for (int64_t v : json_ints(n.at("digits"), INT_MIN, INT_MAX)) digits.push_back(static_cast<int>(v));
      r.numbers.push_back({box_of(n.at("box")), n.at("text").get<std::string>(), digits,
                           score_of(n.at("score")),
                           n.value("separators", std::string())});  // absent before separators
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not an image result (") + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::invalid_argument(std::string("not an image result (") + e.what() + ")");
  }
  return r;
}

std::vector<Number> read_numbers(const std::vector<Digit>& digits) {
  return numbers_in(digits, cv::Mat());
}

std::vector<Number> read_numbers(const std::vector<Digit>& digits, const ImageView& image) {
  return numbers_in(digits, gray_of(image));
}

void set_num_threads(int n) {
  if (n < 0) throw std::invalid_argument("thread count " + std::to_string(n) + " is negative");
  configure_threads(n);
}

}  // namespace adgap
