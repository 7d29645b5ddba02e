#include "adgap/scene/scene_v2.h"

#include <ATen/ATen.h>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>

#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "adgap/io/png.h"
#include "rng.h"

namespace adgap {

const char* to_string(SceneSplit s) {
  switch (s) {
    case SceneSplit::kTrain: return "train";
    case SceneSplit::kTune: return "tune";
    case SceneSplit::kEval: return "eval";
  }
  return "?";
}

SceneSplit parse_scene_split(const std::string& s) {
  for (SceneSplit v : {SceneSplit::kTrain, SceneSplit::kTune, SceneSplit::kEval}) {
    if (s == to_string(v)) return v;
  }
  throw std::invalid_argument("'" + s + "' is not one of eval, tune, train");
}

uint64_t v2_first_seed(SceneSplit split) {
  switch (split) {
    case SceneSplit::kTrain: return 20000000;
    case SceneSplit::kTune: return 21000000;
    case SceneSplit::kEval: return 22000000;
  }
  return 0;
}

namespace {

const std::string kOpencv = "/usr/share/doc/opencv-doc/examples/data/";

std::vector<std::string> installed(const std::vector<std::string>& paths, SceneSplit split) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    if (std::filesystem::exists(p)) out.push_back(p);
  }
  if (out.size() < 3) {
    throw std::runtime_error(std::string("benchmark v2: fewer than 3 background photos of the ") +
                             to_string(split) + " split are installed (run scripts/deps.sh)");
  }
  return out;
}

}  // namespace

std::vector<std::string> v2_background_paths(SceneSplit split) {
  // Digit-free photos of four Debian packages, each photo in exactly one split. v1 tuned on its
  // evaluation photos, so those go to v2's tune split; v2's evaluation photos were never used
  // to choose a setting. (opencv-doc's board.jpg, with small printed digits, is in none.)
  const std::string cv = kOpencv, mate = "/usr/share/backgrounds/mate/nature/",
                    plasma = "/usr/share/wallpapers/", lomiri = "/usr/share/backgrounds/";
  auto kde = [&](const std::string& n) { return plasma + n + "/contents/images/2560x1600.jpg"; };
  switch (split) {
    case SceneSplit::kTrain:
      return installed(
          {cv + "aloeL.jpg", cv + "leuvenA.jpg", cv + "blox.jpg", cv + "Blender_Suzanne1.jpg",
           cv + "basketball1.png", cv + "rubberwhale1.png", cv + "chicky_512.png",
           cv + "ela_original.jpg", cv + "graf1.png", cv + "box_in_scene.png", cv + "messi5.jpg",
           cv + "stuff.jpg", mate + "Aqua.jpg", mate + "Blinds.jpg", mate + "Dune.jpg",
           mate + "FreshFlower.jpg", mate + "Garden.jpg", mate + "GreenMeadow.jpg",
           mate + "LadyBird.jpg", mate + "RainDrops.jpg", lomiri + "Bridge_by_Sander_Klootwijk.jpg",
           lomiri + "Dragonfly_by_Bolly.jpg", lomiri + "Picture_0B_by_freespace.jpg"},
          split);
    case SceneSplit::kTune:
      return installed({cv + "baboon.jpg", cv + "fruits.jpg", cv + "building.jpg",
                        cv + "home.jpg", cv + "starry_night.jpg", cv + "orange.jpg",
                        mate + "Storm.jpg", mate + "TwoWings.jpg", kde("BytheWater"),
                        kde("ColdRipple"), kde("ColorfulCups"),
                        lomiri + "Picture_1A_by_freespace.jpg",
                        lomiri + "aitzgorri_by_Aitzol_Berasategi.jpg"},
                       split);
    case SceneSplit::kEval:
      return installed(
          {cv + "butterfly.jpg", cv + "apple.jpg", cv + "aero1.jpg", cv + "smarties.png",
           cv + "HappyFish.jpg", cv + "squirrel_cls.jpg", mate + "Wood.jpg",
           mate + "YellowFlower.jpg", kde("DarkestHour"), kde("FallenLeaf"), kde("Grey"),
           kde("Kite"), kde("OneStandsOut"), kde("Path"), kde("summer_1am"),
           lomiri + "analogpattern_by_Peter_Nerlich.jpg", lomiri + "free_by_Peter_Nerlich.jpg",
           lomiri + "friends_by_Aitzol_Berasategi.jpg", lomiri + "life_by_Aitzol_Berasategi.jpg",
           lomiri + "picosdeeuropa_by_Aitzol_Berasategi.jpg",
           lomiri + "seeding_by_Clements_Engelhardt.jpg", lomiri + "Kleiber_by_Lukas_Baubkus.jpg"},
          split);
  }
  return {};
}

std::vector<FontFace> v2_fonts(SceneSplit split) {
  const std::vector<std::pair<std::string, std::string>> all = {
      {"DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"},
      {"DejaVuSans-Bold", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
      {"DejaVuSerif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"},
      {"DejaVuSansMono", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"},
      {"LiberationSans-Regular", "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"},
      {"LiberationSans-Bold", "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf"},
      {"LiberationSerif-Regular",
       "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"},
      {"LiberationMono-Bold", "/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf"},
      {"FreeSans", "/usr/share/fonts/truetype/freefont/FreeSans.ttf"},
      {"FreeSerifBold", "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf"},
      {"FreeMono", "/usr/share/fonts/truetype/freefont/FreeMono.ttf"},
      // URW's faces: never in the train split (held out).
      {"NimbusSans-Regular", "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf"},
      {"NimbusSans-Bold", "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf"},
      {"C059-Roman", "/usr/share/fonts/opentype/urw-base35/C059-Roman.otf"},
      {"URWGothic-Demi", "/usr/share/fonts/opentype/urw-base35/URWGothic-Demi.otf"},
  };
  std::vector<FontFace> out;
  for (const auto& [name, path] : all) {
    const bool held_out = path.find("urw-base35") != std::string::npos;
    if (split == SceneSplit::kTrain && held_out) continue;
    if (!std::filesystem::exists(path)) {
      throw std::runtime_error(path + ": font of benchmark v2 not installed (run scripts/deps.sh)");
    }
    out.push_back({name, path});
  }
  return out;
}

std::vector<DigitTruth> SceneV2::truths() const {
  std::vector<DigitTruth> t;
  for (const DigitTruthV2& d : digits) t.push_back(d.truth);
  return t;
}

Scene SceneV2::as_scene() const {
  Scene s;
  s.image = image;
  s.mask = mask;
  s.digits = truths();
  s.seed = seed;
  return s;
}

namespace {

using scene_detail::Rng;

// A glyph rendered once at a large size: its ink as alpha in [0, 1] (tight box), where the
// baseline lies below the box's top, and how far the pen moves after it.
struct Glyph {
  cv::Mat alpha;   // CV_32F
  double top = 0;  // baseline y - ink top, px at the rendering size
  double left = 0;     // ink left - pen x
  double advance = 0;  // pen advance
};

constexpr int kRenderHeight = 96;  // font height glyphs are rendered at, px

struct Font {
  std::string name;
  std::map<char, Glyph> glyphs;
  double digit_height = 1;  // ink height of '0' at the rendering size
};

Font render_font(const FontFace& face, const std::string& chars) {
  cv::Ptr<cv::freetype::FreeType2> ft = cv::freetype::createFreeType2();
  ft->loadFontData(face.path, 0);
  Font f;
  f.name = face.name;
  for (char ch : chars) {
    const std::string s(1, ch);
    int baseline = 0;
    const cv::Size sz = ft->getTextSize(s, kRenderHeight, -1, &baseline);
    const int pad = kRenderHeight / 2;
    cv::Mat canvas(kRenderHeight * 2 + 2 * pad, sz.width + 2 * pad + kRenderHeight, CV_8UC3,
                   cv::Scalar::all(0));
    const cv::Point org(pad, pad + kRenderHeight * 3 / 2);
    ft->putText(canvas, s, org, kRenderHeight, cv::Scalar::all(255), -1, cv::LINE_AA, true);
    cv::Mat a;
    cv::extractChannel(canvas, a, 0);
    const cv::Rect box = cv::boundingRect(a);
    if (box.area() == 0) throw std::runtime_error(face.path + ": renders no ink for '" + s + "'");
    Glyph g;
    a(box).convertTo(g.alpha, CV_32F, 1.0 / 255);
    g.top = org.y - box.y;
    g.left = box.x - org.x;
    g.advance = std::max<double>(sz.width, box.x + box.width - org.x);
    f.glyphs[ch] = g;
  }
  f.digit_height = f.glyphs.at('0').alpha.rows;
  return f;
}

// Letters that do not look like digits (no O, I, l, S, Z, B, g, q, G, b, z, s, o).
const std::string kLetters = "ACDEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy";
// The whole alphabet, for text as photos show it (SceneV2Config::any_letter).
const std::string kAllLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr int kLetterOwner = 128;

// An item before it is warped and placed: its ink as alpha, which digit owns each pixel, and an
// optional plate behind it.
struct Item {
  cv::Mat alpha;  // CV_32F [0, 1]
  cv::Mat owner;  // CV_8U: 0 none, i + 1 for the item's digit i, kLetterOwner + i for letter i
  cv::Mat plate;  // CV_32F [0, 1] or empty
  std::vector<int> labels;
  std::string style;
  bool letters = false;
};

void stamp(Item& it, const cv::Mat& a, int x, int y, int owner) {
  const cv::Rect r = cv::Rect(x, y, a.cols, a.rows) & cv::Rect(0, 0, it.alpha.cols, it.alpha.rows);
  if (r.area() == 0) return;
  const cv::Mat src = a(cv::Rect(r.x - x, r.y - y, r.width, r.height));
  cv::Mat dst = it.alpha(r);
  // Where this glyph is the stronger ink, it owns the pixel.
  cv::Mat mine = src > dst;
  it.owner(r).setTo(owner, mine & (src >= 0.5));
  cv::max(dst, src, dst);
}

cv::Mat scaled(const cv::Mat& a, double f) {
  cv::Mat out;
  const cv::Size sz(std::max(1, static_cast<int>(std::lround(a.cols * f))),
                    std::max(1, static_cast<int>(std::lround(a.rows * f))));
  cv::resize(a, out, sz, 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return cv::min(cv::max(out, 0.0), 1.0);
}

}  // namespace

struct SceneGeneratorV2::Impl {
  const Dataset& digits;
  SceneSplit split;
  SceneV2Config cfg;
  std::vector<cv::Mat> backgrounds;
  std::vector<Font> fonts;

  Impl(const Dataset& d, SceneSplit s, SceneV2Config c) : digits(d), split(s), cfg(c) {
    for (const std::string& p : v2_background_paths(split)) {
      cv::Mat b = load_bgr(p);
      const double f = 4096.0 / std::max(b.cols, b.rows);  // wallpapers reach 6028 px
      if (f < 1) cv::resize(b, b, cv::Size(), f, f, cv::INTER_AREA);
      backgrounds.push_back(b);
    }
    for (const FontFace& f : v2_fonts(split)) fonts.push_back(render_font(f, "0123456789" + kAllLetters));
  }

  // A handwritten digit's ink (tight box) as alpha, and its label.
  std::pair<cv::Mat, int> mnist_digit(Rng& rng) const {
    for (;;) {
      const int64_t idx = static_cast<int64_t>(rng.g() % static_cast<uint64_t>(digits.size()));
      const at::Tensor t = digits.images[idx][0].contiguous();
      cv::Mat d(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8U,
                t.data_ptr<uint8_t>());
      const cv::Rect box = cv::boundingRect(d > 40);
      if (box.height < 8) continue;
      cv::Mat a;
      d(box).convertTo(a, CV_32F, 1.0 / 255);
      return {a, static_cast<int>(digits.labels[idx].item<int64_t>())};
    }
  }

  // Lays out one item of `n` characters at digit height h (px).
  Item make_item(Rng& rng, int n, double h, bool font, bool letters) const {
    Item it;
    it.letters = letters;
    struct Piece {
      cv::Mat a;
      double x, y;
      int label;
    };
    std::vector<Piece> pieces;
    double pen = 0;
    if (font || letters) {
      const Font& f = fonts[rng.integer(0, static_cast<int>(fonts.size()) - 1)];
      it.style = f.name;
      const double s = h / f.digit_height;
      const double tracking = rng.uniform(0.88, 1.25);  // tight settings touch in bold faces
      for (int i = 0; i < n; ++i) {
        const std::string& alphabet = cfg.any_letter ? kAllLetters : kLetters;
        const char ch = letters ? alphabet[rng.integer(0, static_cast<int>(alphabet.size()) - 1)]
                                : static_cast<char>('0' + rng.integer(0, 9));
        const Glyph& g = f.glyphs.at(ch);
        pieces.push_back({scaled(g.alpha, s), pen + g.left * s, -g.top * s, letters ? -1 : ch - '0'});
        pen += g.advance * s * tracking;
      }
    } else {
      it.style = "mnist";
      for (int i = 0; i < n; ++i) {
        auto [a, label] = mnist_digit(rng);
        const double hi = h * rng.uniform(0.9, 1.1);
        cv::Mat sa = scaled(a, hi / a.rows);
        const double x = pen;
        pieces.push_back({sa, x, -hi + rng.uniform(-0.05, 0.05) * h, label});
        pen = x + sa.cols + h * rng.uniform(-0.08, 0.35);  // some touch or overlap
      }
    }
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (const Piece& p : pieces) {
      x0 = std::min(x0, p.x);
      y0 = std::min(y0, p.y);
      x1 = std::max(x1, p.x + p.a.cols);
      y1 = std::max(y1, p.y + p.a.rows);
    }
    const int pad = static_cast<int>(std::ceil(0.45 * h)) + 2;
    const int w = static_cast<int>(std::ceil(x1 - x0)) + 2 * pad;
    const int hh = static_cast<int>(std::ceil(y1 - y0)) + 2 * pad;
    it.alpha = cv::Mat::zeros(hh, w, CV_32F);
    it.owner = cv::Mat::zeros(hh, w, CV_8U);
    for (size_t i = 0; i < pieces.size(); ++i) {
      const Piece& p = pieces[i];
      stamp(it, p.a, static_cast<int>(std::lround(p.x - x0)) + pad,
            static_cast<int>(std::lround(p.y - y0)) + pad,
            static_cast<int>(i) + (letters ? kLetterOwner : 1));
      if (!letters) it.labels.push_back(p.label);
    }
    if (rng.chance(cfg.plate_fraction)) {
      it.plate = cv::Mat::zeros(hh, w, CV_32F);
      const int m = std::max(1, pad - static_cast<int>(rng.uniform(0.0, 0.3) * h));
      cv::rectangle(it.plate, cv::Rect(pad - m / 2, pad - m / 2, w - 2 * pad + m, hh - 2 * pad + m),
                    cv::Scalar(1), cv::FILLED, cv::LINE_AA);
    }
    return it;
  }

  // Rotation and mild perspective: a homography taking the item into a box at the origin.
  static void warp(Item& it, Rng& rng, double max_deg, double max_persp) {
    const double deg = rng.uniform(-max_deg, max_deg);
    const double c = std::cos(deg * M_PI / 180), s = std::sin(deg * M_PI / 180);
    const double w = it.alpha.cols, h = it.alpha.rows;
    std::array<cv::Point2f, 4> src = {cv::Point2f(0, 0), cv::Point2f(w, 0), cv::Point2f(w, h),
                                      cv::Point2f(0, h)};
    std::array<cv::Point2f, 4> dst;
    float minx = 1e9f, miny = 1e9f, maxx = -1e9f, maxy = -1e9f;
    for (int i = 0; i < 4; ++i) {
      const double x = src[i].x - w / 2, y = src[i].y - h / 2;
      const double jx = rng.uniform(-max_persp, max_persp) * w;
      const double jy = rng.uniform(-max_persp, max_persp) * h;
      dst[i] = cv::Point2f(static_cast<float>(c * x - s * y + jx), static_cast<float>(s * x + c * y + jy));
      minx = std::min(minx, dst[i].x);
      miny = std::min(miny, dst[i].y);
      maxx = std::max(maxx, dst[i].x);
      maxy = std::max(maxy, dst[i].y);
    }
    for (cv::Point2f& p : dst) p -= cv::Point2f(minx, miny);
    const cv::Mat m = cv::getPerspectiveTransform(src.data(), dst.data());
    const cv::Size sz(static_cast<int>(std::ceil(maxx - minx)) + 1,
                      static_cast<int>(std::ceil(maxy - miny)) + 1);
    cv::warpPerspective(it.alpha, it.alpha, m, sz, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
    cv::warpPerspective(it.owner, it.owner, m, sz, cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
    if (!it.plate.empty()) {
      cv::warpPerspective(it.plate, it.plate, m, sz, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
    }
  }

  cv::Mat background(Rng& rng, cv::Size size) const {
    const cv::Mat& src = backgrounds[rng.integer(0, static_cast<int>(backgrounds.size()) - 1)];
    const double need = std::max(double(size.width) / src.cols, double(size.height) / src.rows);
    const double scale = need * rng.uniform(1.0, 1.6) * 1.0001;
    cv::Mat s;
    cv::resize(src, s, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const int x = rng.integer(0, s.cols - size.width), y = rng.integer(0, s.rows - size.height);
    cv::Mat out;
    s(cv::Rect(x, y, size.width, size.height)).convertTo(out, CV_32FC3);
    if (rng.chance(0.5)) cv::flip(out, out, 1);
    return out;
  }

  // A colour (BGR) whose grey level (BT.601 weights, as to_gray) is `grey`, or grey itself.
  static cv::Vec3f ink_colour(Rng& rng, double grey, bool colour) {
    if (!colour) return cv::Vec3f::all(static_cast<float>(grey));
    cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(rng.integer(0, 179), rng.integer(120, 255), 255)), bgr;
    cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
    cv::Vec3d v = bgr.at<cv::Vec3b>(0, 0);
    const auto luma = [](const cv::Vec3d& c) { return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]; };
    // Scale toward black or blend toward white until the grey level matches.
    const double l = luma(v);
    if (grey <= l) {
      v *= grey / std::max(l, 1.0);
    } else {
      const double t = (grey - l) / std::max(255.0 - l, 1.0);
      v = v * (1 - t) + cv::Vec3d::all(255.0) * t;
    }
    return cv::Vec3f(static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[2]));
  }

  SceneV2 make(uint64_t seed) const {
    Rng rng(seed);
    SceneV2 sc;
    sc.seed = seed;
    sc.split = split;
    static const std::array<cv::Size, 8> kSizes = {
        cv::Size(320, 240),  cv::Size(400, 300),   cv::Size(640, 480),   cv::Size(640, 480),
        cv::Size(800, 600),  cv::Size(1024, 768),  cv::Size(1600, 1200), cv::Size(2048, 1536)};
    int choices = static_cast<int>(kSizes.size());
    while (cfg.max_side > 0 && choices > 1 && kSizes[choices - 1].width > cfg.max_side) --choices;
    cv::Size size = kSizes[rng.integer(0, choices - 1)];
    if (rng.chance(cfg.phone_fraction) && (cfg.max_side <= 0 || cfg.max_side >= 4000)) {
      size = cv::Size(4000, 3000);
    }
    if (rng.chance(0.2)) std::swap(size.width, size.height);  // portrait
    cv::Mat img = background(rng, size);
    cv::Mat grey;
    {
      cv::Mat g8;
      img.convertTo(g8, CV_8UC3);
      cv::cvtColor(g8, grey, cv::COLOR_BGR2GRAY);
    }
    sc.mask = cv::Mat::zeros(size, CV_8U);
    std::vector<cv::Rect> taken;
    const int items = rng.integer(0, cfg.max_items);
    const double max_h = cfg.max_height * size.height;
    for (int k = 0; k < items; ++k) {
      const bool letters = rng.chance(cfg.distractor_fraction);
      const bool font = letters || rng.chance(cfg.font_fraction);
      const int n = letters ? rng.integer(2, 6)
                            : (rng.chance(cfg.number_fraction) ? rng.integer(2, 8) : 1);
      // Heights log-uniform from the smallest to the largest; long numbers must fit the width.
      double h = std::exp(rng.uniform(std::log(double(cfg.min_height)), std::log(max_h)));
      h = std::min(h, 0.85 * size.width / (n * 0.75 + 0.9));
      if (h < cfg.min_height) continue;
      Item it = make_item(rng, n, h, font, letters);
      warp(it, rng, cfg.max_rotation, cfg.max_perspective);
      if (it.alpha.cols >= size.width || it.alpha.rows >= size.height) continue;
      cv::Rect r;
      bool placed = false;
      for (int tries = 0; tries < 30 && !placed; ++tries) {
        r = cv::Rect(rng.integer(0, size.width - it.alpha.cols),
                     rng.integer(0, size.height - it.alpha.rows), it.alpha.cols, it.alpha.rows);
        placed = true;
        for (const cv::Rect& t : taken) placed &= (r & t).area() == 0;
      }
      if (!placed) continue;
      taken.push_back(r);
      cv::Mat roi = img(r);
      // The plate first, in a random grey or colour.
      double surround;
      const cv::Mat on = it.alpha > 0.1;
      if (!it.plate.empty()) {
        const double pg = rng.uniform(20, 235);
        const cv::Vec3f pc = ink_colour(rng, pg, rng.chance(0.5));
        for (int y = 0; y < roi.rows; ++y) {
          cv::Vec3f* p = roi.ptr<cv::Vec3f>(y);
          const float* a = it.plate.ptr<float>(y);
          for (int x = 0; x < roi.cols; ++x) p[x] = p[x] * (1 - a[x]) + pc * a[x];
        }
        surround = pg;
      } else {
        surround = cv::mean(grey(r), on)[0];
      }
      // Ink against its own surroundings: the polarity with room for it, contrast 0.2 to full.
      const double room_dark = surround, room_light = 255 - surround;
      bool dark = rng.uniform() < room_dark / 255.0;
      if ((dark ? room_dark : room_light) < 60) dark = !dark;
      const double room = dark ? room_dark : room_light;
      const double lo = cfg.min_contrast * 255;
      const double diff = lo + rng.uniform() * std::max(0.0, room - lo);
      const double ink_grey = dark ? surround - diff : surround + diff;
      const cv::Vec3f ink = ink_colour(rng, ink_grey, rng.chance(cfg.colour_fraction));
      for (int y = 0; y < roi.rows; ++y) {
        cv::Vec3f* p = roi.ptr<cv::Vec3f>(y);
        const float* a = it.alpha.ptr<float>(y);
        for (int x = 0; x < roi.cols; ++x) p[x] = p[x] * (1 - a[x]) + ink * a[x];
      }
      if (it.letters) {
        sc.distractors.push_back(cv::boundingRect(it.alpha >= 0.5) + r.tl());
        for (int i = 0; i < 6; ++i) {
          const cv::Rect b = cv::boundingRect((it.owner == kLetterOwner + i) & (it.alpha >= 0.5));
          if (b.area() > 0) sc.letters.push_back(b + r.tl());
        }
        continue;
      }
      NumberTruth num;
      const int number = it.labels.size() > 1 ? static_cast<int>(sc.numbers.size()) : -1;
      for (size_t i = 0; i < it.labels.size(); ++i) {
        const cv::Mat mine = (it.owner == static_cast<int>(i) + 1) & (it.alpha >= 0.5);
        const cv::Rect b = cv::boundingRect(mine);
        if (b.area() == 0) continue;
        sc.mask(r).setTo(255, mine);
        DigitTruthV2 d;
        d.truth = {b + r.tl(), it.labels[i], -1};
        d.dark_on_light = dark;
        d.style = it.style;
        d.number = number;
        d.contrast = diff / 255.0;
        num.box = num.digits.empty() ? d.truth.box : (num.box | d.truth.box);
        num.text += static_cast<char>('0' + it.labels[i]);
        num.digits.push_back(static_cast<int>(sc.digits.size()));
        sc.digits.push_back(d);
      }
      if (number >= 0) sc.numbers.push_back(num);
    }
    // Uneven light: a tilted plane times a vignette.
    if (rng.chance(0.6)) {
      const double gx = rng.uniform(-0.35, 0.35), gy = rng.uniform(-0.35, 0.35);
      const double vig = rng.uniform(0.0, 0.4);
      const double cx = rng.uniform(0.2, 0.8) * size.width, cy = rng.uniform(0.2, 0.8) * size.height;
      const double rr = 0.5 * std::hypot(size.width, size.height);
      for (int y = 0; y < img.rows; ++y) {
        cv::Vec3f* p = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < img.cols; ++x) {
          const double u = double(x) / size.width - 0.5, v = double(y) / size.height - 0.5;
          const double d = std::hypot(x - cx, y - cy) / rr;
          const double f = std::clamp((1 + gx * u + gy * v) * (1 - vig * d * d), 0.45, 1.3);
          p[x] *= static_cast<float>(f);
        }
      }
    }
    const double blur = rng.uniform(0.0, cfg.max_blur) * std::max(1.0, size.height / 768.0);
    if (blur > 0.3) cv::GaussianBlur(img, img, cv::Size(0, 0), blur);
    const double noise = rng.uniform(0.0, cfg.max_noise);
    if (noise > 0.5) {
      cv::Mat n(img.size(), CV_32FC3);
      cv::RNG local(rng.g());  // seeded from the scene's generator
      local.fill(n, cv::RNG::NORMAL, 0.0, noise);
      img += n;
    }
    img.convertTo(sc.image, CV_8UC3);
    if (rng.chance(cfg.jpeg_fraction)) {
      std::vector<uint8_t> buf;
      cv::imencode(".jpg", sc.image, buf, {cv::IMWRITE_JPEG_QUALITY, rng.integer(30, 95)});
      sc.image = cv::imdecode(buf, cv::IMREAD_COLOR);
    }
    return sc;
  }
};

SceneGeneratorV2::SceneGeneratorV2(const Dataset& digits, SceneSplit split, SceneV2Config cfg)
    : impl_(std::make_unique<Impl>(digits, split, cfg)) {
  if (digits.size() == 0) throw std::invalid_argument("benchmark v2: no handwritten digits");
}
SceneGeneratorV2::~SceneGeneratorV2() = default;
SceneGeneratorV2::SceneGeneratorV2(SceneGeneratorV2&&) noexcept = default;

SceneV2 SceneGeneratorV2::make(uint64_t seed) const { return impl_->make(seed); }

SceneSplit SceneGeneratorV2::split() const { return impl_->split; }

std::vector<SceneV2> SceneGeneratorV2::make_range(int64_t first, int64_t count) const {
  std::vector<SceneV2> v;
  for (int64_t i = 0; i < count; ++i) {
    v.push_back(make(v2_first_seed(impl_->split) + static_cast<uint64_t>(first + i)));
  }
  return v;
}

std::string scene_v2_truth_json(const SceneV2& s, const std::string& path) {
  auto box = [](const cv::Rect& r) { return nlohmann::json{r.x, r.y, r.width, r.height}; };
  nlohmann::json digits = nlohmann::json::array(), numbers = nlohmann::json::array();
  for (const DigitTruthV2& d : s.digits) {
    digits.push_back({{"box", box(d.truth.box)},
                      {"label", d.truth.label},
                      {"dark_on_light", d.dark_on_light},
                      {"style", d.style},
                      {"number", d.number},
                      {"contrast", std::round(d.contrast * 1000) / 1000}});
  }
  for (const NumberTruth& n : s.numbers) {
    numbers.push_back({{"box", box(n.box)}, {"text", n.text}, {"digits", n.digits}});
  }
  const nlohmann::json j = {{"path", path},          {"seed", s.seed},
                            {"split", to_string(s.split)}, {"width", s.image.cols},
                            {"height", s.image.rows}, {"digits", digits},
                            {"numbers", numbers}};
  return j.dump();
}

void export_scenes_v2(const std::string& dir, const SceneGeneratorV2& gen, int64_t first,
                      int64_t count) {
  std::string truth = "[\n";
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t seed = v2_first_seed(gen.split()) + static_cast<uint64_t>(first + i);
    const SceneV2 s = gen.make(seed);
    const std::string name =
        std::string("v2-") + to_string(gen.split()) + "-" + std::to_string(seed) + ".png";
    write_png_atomic(dir + "/" + name, s.image);
    truth += (i ? ",\n" : "") + scene_v2_truth_json(s, name);
  }
  atomic_write_text(dir + "/truth.json", truth + "\n]\n");
}

}  // namespace adgap
