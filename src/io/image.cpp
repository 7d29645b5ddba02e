#include "adgap/io/image.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

namespace adgap {

namespace {

uint32_t be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }

std::vector<uint8_t> read_prefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b(n);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  b.resize(static_cast<size_t>(in.gcount()));
  return b;
}

// Silences OpenCV's log for a scope and restores the level it had. Decoding may run on several
// threads at once: the first one in silences, the last one out restores.
class QuietOpenCv {
 public:
  QuietOpenCv() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (depth_++ == 0)
      before_ = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  }
  ~QuietOpenCv() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--depth_ == 0) cv::utils::logging::setLogLevel(before_);
  }
  QuietOpenCv(const QuietOpenCv&) = delete;
  QuietOpenCv& operator=(const QuietOpenCv&) = delete;

 private:
  static inline std::mutex mutex_;
  static inline int depth_ = 0;
  static inline cv::utils::logging::LogLevel before_ = cv::utils::logging::LOG_LEVEL_WARNING;
};

}  // namespace

cv::Size declared_size(const std::string& path) {
  const std::vector<uint8_t> b = read_prefix(path, 1 << 16);
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() >= 24 && std::equal(kPng, kPng + 8, b.begin())) {
    const uint32_t w = be32(&b[16]), h = be32(&b[20]);
    return {static_cast<int>(std::min<uint32_t>(w, INT32_MAX)),
            static_cast<int>(std::min<uint32_t>(h, INT32_MAX))};
  }
  if (b.size() >= 4 && b[0] == 0xff && b[1] == 0xd8) {
    // Walk the JPEG markers to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
    size_t i = 2;
    while (i + 9 < b.size() && b[i] == 0xff) {
      const uint8_t m = b[i + 1];
      if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
        return {static_cast<int>(be16(&b[i + 7])), static_cast<int>(be16(&b[i + 5]))};
      }
      i += 2 + be16(&b[i + 2]);
    }
  }
  return {-1, -1};
}

namespace {

cv::Mat load_checked(const std::string& path, int flags) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw ImageError(path + ": no such file");
  if (std::filesystem::file_size(path, ec) == 0) throw ImageError(path + ": empty file");
  const cv::Size d = declared_size(path);
  if (d.width == 0 || d.height == 0) {
    throw ImageError(path + ": declares a " + std::to_string(d.width) + "x" +
                     std::to_string(d.height) + " image");
  }
  if (d.width > 0 && int64_t{d.width} * d.height > kMaxImagePixels) {
    throw ImageError(path + ": declares " + std::to_string(d.width) + "x" +
                     std::to_string(d.height) + " pixels, over the limit of " +
                     std::to_string(kMaxImagePixels));
  }
  // OpenCV prints its own multi-line warnings for undecodable files; we report once. Its log
  // level is the process's: it is restored right after decoding.
  const QuietOpenCv quiet;
  cv::Mat img;
  try {
    img = cv::imread(path, flags);
  } catch (const cv::Exception&) {
  }
  if (img.empty())
    throw ImageError(path + ": cannot decode as an image (unknown format or corrupt)");
  return img;
}

}  // namespace

cv::Mat load_bgr(const std::string& path) { return load_checked(path, cv::IMREAD_COLOR); }

cv::Mat load_image(const std::string& path) {
  // Gray stays gray, colour (and alpha) becomes BGR; 16-bit files are reduced to 8 bits.
  cv::Mat img = load_checked(path, cv::IMREAD_ANYCOLOR);
  if (img.channels() == 4) {
    cv::Mat bgr;
    cv::cvtColor(img, bgr, cv::COLOR_BGRA2BGR);
    return bgr;
  }
  return img;
}

cv::Mat to_gray(const cv::Mat& img) {
  if (img.channels() == 1) return img;
  cv::Mat g;
  cv::cvtColor(img, g, img.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  return g;
}

}  // namespace adgap
