#include "adgap/scene/scene.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <nlohmann/json.hpp>

#include <random>
#include <stdexcept>

#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "rng.h"

namespace adgap {

std::vector<cv::Mat> load_backgrounds(const std::vector<std::string>& paths) {
  std::vector<cv::Mat> out;
  for (const std::string& p : paths) out.push_back(load_bgr(p));
  return out;
}

std::vector<std::string> default_background_paths() {
  const std::string dir = "/usr/share/doc/opencv-doc/examples/data/";
  // Photos with no digits or text in them.
  return {dir + "baboon.jpg",    dir + "fruits.jpg",       dir + "building.jpg",
          dir + "home.jpg",      dir + "starry_night.jpg", dir + "orange.jpg",
          dir + "butterfly.jpg", dir + "apple.jpg",        dir + "aero1.jpg",
          dir + "smarties.png",  dir + "HappyFish.jpg",    dir + "squirrel_cls.jpg"};
}

std::vector<std::string> training_background_paths() {
  const std::string dir = "/usr/share/doc/opencv-doc/examples/data/";
  return {dir + "aloeL.jpg",       dir + "leuvenA.jpg",
          dir + "blox.jpg",        dir + "Blender_Suzanne1.jpg",
          dir + "basketball1.png", dir + "rubberwhale1.png",
          dir + "chicky_512.png",  dir + "ela_original.jpg",
          dir + "graf1.png",       dir + "box_in_scene.png",
          dir + "left01.jpg",      dir + "messi5.jpg",
          dir + "stuff.jpg",       dir + "board.jpg"};
}

SceneConfig benchmark_scene_config() {
  SceneConfig c;
  c.width = 400;
  c.height = 300;
  c.min_digits = 0;  // one scene in five has no digit
  c.max_digits = 4;
  c.min_digit_height = 14;
  c.max_digit_height = 120;
  c.dark_on_light = 0.5;
  c.min_contrast = 0.3;
  c.max_blur = 1.5;
  c.max_noise = 10.0;
  return c;
}

namespace {

using scene_detail::Rng;

// A random crop of a background at the scene's size, as float gray-level BGR.
cv::Mat background(const std::vector<cv::Mat>& bgs, Rng& rng, const SceneConfig& cfg) {
  const cv::Mat& src = bgs[rng.integer(0, static_cast<int>(bgs.size()) - 1)];
  // Scale so the crop fits, with some zoom variety.
  const double need = std::max(double(cfg.width) / src.cols, double(cfg.height) / src.rows);
  const double scale = std::max(need, rng.uniform(0.5, 1.0)) * 1.0001;
  cv::Mat scaled;
  cv::resize(src, scaled, cv::Size(), scale, scale, cv::INTER_AREA);
  const int x = rng.integer(0, scaled.cols - cfg.width),
            y = rng.integer(0, scaled.rows - cfg.height);
  cv::Mat out;
  scaled(cv::Rect(x, y, cfg.width, cfg.height)).convertTo(out, CV_32FC3);
  return out;
}

}  // namespace

Scene make_scene(const Dataset& digits, const std::vector<cv::Mat>& backgrounds, uint64_t seed,
                 const SceneConfig& cfg) {
  if (backgrounds.empty()) throw std::invalid_argument("make_scene: no background photos");
  if (digits.size() == 0) throw std::invalid_argument("make_scene: no digits");
  if (cfg.min_digit_height < 4 || cfg.max_digit_height < cfg.min_digit_height ||
      cfg.max_digit_height * 2 > std::min(cfg.width, cfg.height)) {
    throw std::invalid_argument("make_scene: digit heights do not fit the scene");
  }
  Rng rng(seed);
  Scene s;
  s.seed = seed;
  s.dark_on_light = rng.uniform() < cfg.dark_on_light;
  const double contrast = rng.uniform(cfg.min_contrast, 1.0);
  // Squeeze the photo into the part of the range away from the strokes' level.
  cv::Mat img = background(backgrounds, rng, cfg);
  const double span = 255.0 * (1.0 - contrast);
  const double base = s.dark_on_light ? 255.0 - span : 0.0;
  img.convertTo(img, -1, span / 255.0, base);  // every channel (as `img * a + base` did)
  const double ink =
      s.dark_on_light ? base - 255.0 * contrast * 0.9 : span + 255.0 * contrast * 0.9;

  cv::Mat alpha_all = cv::Mat::zeros(cfg.height, cfg.width, CV_32F);
  s.mask = cv::Mat::zeros(cfg.height, cfg.width, CV_8U);
  const int want = rng.integer(cfg.min_digits, cfg.max_digits);
  for (int tries = 0; static_cast<int>(s.digits.size()) < want && tries < 200; ++tries) {
    const int64_t idx = static_cast<int64_t>(rng.g() % static_cast<uint64_t>(digits.size()));
    const at::Tensor t = digits.images[idx][0].contiguous();  // (28, 28) uint8
    cv::Mat d(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8U,
              t.data_ptr<uint8_t>());
    const cv::Rect inkbox = cv::boundingRect(d > 0);
    if (inkbox.area() == 0) continue;
    const int h = rng.integer(cfg.min_digit_height, cfg.max_digit_height);
    const double f = double(h) / inkbox.height;
    const int w = std::max(1, static_cast<int>(std::lround(inkbox.width * f)));
    cv::Mat a;
    d(inkbox).convertTo(a, CV_32F, 1.0 / 255.0);
    cv::resize(a, a, cv::Size(w, h), 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    a = cv::min(cv::max(a, 0.0), 1.0);
    const int x = rng.integer(0, cfg.width - w), y = rng.integer(0, cfg.height - h);
    const cv::Rect r(x, y, w, h);
    // Keep digits apart: a quarter of the digit height between boxes.
    const int gap = h / 4;
    const cv::Rect padded(r.x - gap, r.y - gap, r.width + 2 * gap, r.height + 2 * gap);
    bool clash = false;
    for (const DigitTruth& o : s.digits) clash |= (padded & o.box).area() > 0;
    if (clash) continue;
    a.copyTo(alpha_all(r));
    cv::Mat on = a >= 0.5;
    const cv::Rect ink_r = cv::boundingRect(on);
    if (ink_r.area() == 0) continue;
    s.mask(r).setTo(255, on);
    s.digits.push_back({cv::Rect(x + ink_r.x, y + ink_r.y, ink_r.width, ink_r.height),
                        static_cast<int>(digits.labels[idx].item<int64_t>()), idx});
  }
  // Composite: img = img * (1 - alpha) + ink * alpha, per channel.
  cv::Mat alpha3;
  cv::merge(std::vector<cv::Mat>{alpha_all, alpha_all, alpha_all}, alpha3);
  cv::Mat keep;  // 1 - alpha, computed as OpenCV's Scalar - Mat expression did (no warning)
  alpha3.convertTo(keep, -1, -1.0, 1.0);
  img = img.mul(keep) + alpha3 * ink;
  const double blur = rng.uniform(0.0, cfg.max_blur);
  if (blur > 0.3) cv::GaussianBlur(img, img, cv::Size(0, 0), blur);
  const double noise = rng.uniform(0.0, cfg.max_noise);
  if (noise > 0) {
    for (int y = 0; y < img.rows; ++y) {
      float* p = img.ptr<float>(y);
      for (int x = 0; x < img.cols * 3; ++x) p[x] += static_cast<float>(noise * rng.normal());
    }
  }
  img.convertTo(s.image, CV_8UC3);  // rounds and saturates to 0..255
  return s;
}

void export_scenes(const std::string& dir, const Dataset& digits,
                   const std::vector<cv::Mat>& backgrounds, uint64_t first_seed, int64_t count,
                   const SceneConfig& cfg) {
  nlohmann::json truth = nlohmann::json::array();
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(i);
    const Scene s = make_scene(digits, backgrounds, seed, cfg);
    const std::string name = "scene-" + std::to_string(seed) + ".png";
    write_png_atomic(dir + "/" + name, s.image);
    nlohmann::json d = nlohmann::json::array();
    for (const DigitTruth& t : s.digits) {
      d.push_back({{"box", {t.box.x, t.box.y, t.box.width, t.box.height}}, {"label", t.label}});
    }
    truth.push_back({{"path", name}, {"seed", seed}, {"digits", d}});
  }
  atomic_write_text(dir + "/truth.json", truth.dump(1) + "\n");
}

}  // namespace adgap
