#include "adgap/io/image.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <fstream>
#include <mutex>
#include <vector>

#include "adgap/io/limits.h"

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

namespace {

// Width and height the PNG or JPEG header at the start of `b` declares; {-1, -1} otherwise.
cv::Size declared_size_of(const std::vector<uint8_t>& b) {
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
  if (b.size() >= 26 && b[0] == 'B' && b[1] == 'M') {  // BITMAPINFOHEADER or later
    auto le32 = [&](size_t i) {
      return static_cast<int32_t>(uint32_t{b[i]} | uint32_t{b[i + 1]} << 8 |
                                  uint32_t{b[i + 2]} << 16 | uint32_t{b[i + 3]} << 24);
    };
    if (le32(14) >= 40) {
      const int64_t w = le32(18), h = le32(22);  // negative height: rows top down
      return {static_cast<int>(std::min<int64_t>(std::abs(w), INT32_MAX)),
              static_cast<int>(std::min<int64_t>(std::abs(h), INT32_MAX))};
    }
  }
  if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') {  // PNM: "P5 <w> <h> ..."
    int64_t v[2] = {-1, -1};
    size_t i = 2;
    for (int64_t& x : v) {
      while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
        if (b[i] == '#') {
          while (i < b.size() && b[i] != '\n') ++i;
        } else {
          ++i;
        }
      }
      if (i >= b.size() || !std::isdigit(b[i])) return {-1, -1};
      x = 0;
      while (i < b.size() && std::isdigit(b[i]) && x < INT32_MAX) x = x * 10 + (b[i++] - '0');
    }
    return {static_cast<int>(std::min<int64_t>(v[0], INT32_MAX)),
            static_cast<int>(std::min<int64_t>(v[1], INT32_MAX))};
  }
  return {-1, -1};
}

}  // namespace

cv::Size declared_size(const std::string& path) { return declared_size_of(read_prefix(path, 1 << 16)); }

namespace {

// Bytes the PNG's filtered image data must inflate to, from its IHDR fields.
uint64_t png_data_bytes(uint64_t w, uint64_t h, int depth, int colour, int interlace) {
  const int channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
  const uint64_t bits = uint64_t(channels) * depth;
  auto bytes = [&](uint64_t pw, uint64_t ph) {
    return pw == 0 || ph == 0 ? 0 : ph * (1 + (pw * bits + 7) / 8);
  };
  if (interlace == 0) return bytes(w, h);
  static const int adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                  {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  uint64_t total = 0;
  for (const auto& p : adam7) {
    const uint64_t pw = w > uint64_t(p[0]) ? (w - p[0] + p[2] - 1) / p[2] : 0;
    const uint64_t ph = h > uint64_t(p[1]) ? (h - p[1] + p[3] - 1) / p[3] : 0;
    total += bytes(pw, ph);
  }
  return total;
}

// A PNG is checked whole before decoding (libpng would print its own complaints and OpenCV
// would still return what it decoded): every chunk present and passing its CRC, an IEND, and
// image data that inflates to at least the size IHDR implies. Inflated bytes are counted, not kept.
void check_png(const std::vector<uint8_t>& b, const std::string& path) {
  size_t pos = 8;
  bool ihdr = false, iend = false;
  uint64_t need = 0, got = 0;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw ImageError(path + ": zlib initialisation failed");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  int zrc = Z_OK;
  std::vector<uint8_t> sink(1 << 16);
  while (!iend) {
    if (pos + 12 > b.size()) throw ImageError(path + ": truncated PNG (no IEND chunk)");
    const uint32_t len = be32(&b[pos]);
    std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    for (char& c : type) {
      if (!std::isalpha(static_cast<unsigned char>(c))) c = '?';  // printable in messages
    }
    if (len > 0x7fffffffu || pos + 12 + uint64_t{len} > b.size()) {
      throw ImageError(path + ": truncated PNG (chunk " + type + " at byte " + std::to_string(pos) +
                       " is cut short)");
    }
    const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), &b[pos + 4], len + 4));
    if (crc != be32(&b[pos + 8 + len])) {
      throw ImageError(path + ": corrupt PNG (chunk " + type + " at byte " + std::to_string(pos) +
                       " fails its CRC check)");
    }
    const uint8_t* data = &b[pos + 8];
    if (!ihdr) {
      if (type != "IHDR" || len != 13) throw ImageError(path + ": corrupt PNG (no IHDR chunk first)");
      ihdr = true;
      need = png_data_bytes(be32(data), be32(data + 4), data[8], data[9], data[12]);
    } else if (type == "IDAT" && zrc == Z_OK && got < need) {
      zs.next_in = const_cast<Bytef*>(data);
      zs.avail_in = len;
      while (zs.avail_in > 0 && zrc == Z_OK && got < need) {
        zs.next_out = sink.data();
        zs.avail_out = static_cast<uInt>(sink.size());
        zrc = inflate(&zs, Z_NO_FLUSH);
        got += sink.size() - zs.avail_out;
        if (zrc == Z_BUF_ERROR) zrc = Z_OK;  // needs the next IDAT
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
          throw ImageError(path + ": corrupt PNG image data (" +
                           (zs.msg ? zs.msg : "zlib error") + ")");
        }
      }
    } else if (type == "IEND") {
      iend = true;
    }
    pos += 12 + uint64_t{len};
  }
  if (got < need) {
    throw ImageError(path + ": PNG image data ends early (" + std::to_string(got) + " of " +
                     std::to_string(need) + " bytes)");
  }
}

// A JPEG must end: an end-of-image marker after the first start-of-scan (a cut file would be
// decoded with its missing rows grey, and a warning printed).
void check_jpeg(const std::vector<uint8_t>& b, const std::string& path) {
  size_t i = 2;
  while (i + 4 <= b.size() && b[i] == 0xff) {
    const uint8_t m = b[i + 1];
    if (m == 0xff) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0xda) break;  // start of scan
    if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {  // markers without a length
      i += 2;
      continue;
    }
    i += 2 + be16(&b[i + 2]);
  }
  if (i + 4 > b.size() || b[i] != 0xff || b[i + 1] != 0xda) {
    throw ImageError(path + ": truncated or corrupt JPEG (no start of scan)");
  }
  for (size_t k = i + 2; k + 1 < b.size(); ++k) {
    if (b[k] == 0xff && b[k + 1] == 0xd9) return;
  }
  throw ImageError(path + ": truncated JPEG (no end-of-image marker)");
}

// PNG, JPEG, BMP, TIFF, WebP or PNM (PBM, PGM, PPM), from the first 12 bytes.
bool known_format(const std::vector<uint8_t>& h) {
  auto starts = [&](std::initializer_list<uint8_t> m) {
    return h.size() >= m.size() && std::equal(m.begin(), m.end(), h.begin());
  };
  if (starts({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}) || starts({0xff, 0xd8, 0xff}) ||
      starts({'B', 'M'}) || starts({'I', 'I', 42, 0}) || starts({'M', 'M', 0, 42})) {
    return true;
  }
  if (h.size() >= 12 && starts({'R', 'I', 'F', 'F'}) && std::equal(h.begin() + 8, h.end(), "WEBP")) {
    return true;
  }
  return h.size() >= 3 && h[0] == 'P' && h[1] >= '1' && h[1] <= '6' && std::isspace(h[2]);
}

// Decodes an image file's bytes; `name` (a path, or an upload's name) starts every error.
// Header, format and (PNG, JPEG) completeness are checked before any decoder runs.
cv::Mat decode_checked(const std::vector<uint8_t>& b, const std::string& name, int flags) {
  if (b.empty()) throw ImageError(name + ": empty file");
  const cv::Size d = declared_size_of(b);
  if (d.width == 0 || d.height == 0) {
    throw ImageError(name + ": declares a " + std::to_string(d.width) + "x" +
                     std::to_string(d.height) + " image");
  }
  if (d.width > 0 && int64_t{d.width} * d.height > max_image_pixels()) {
    throw ImageTooLargeError(name + ": declares " + std::to_string(d.width) + "x" +
                     std::to_string(d.height) + " pixels, over the limit of " +
                     std::to_string(max_image_pixels()));
  }
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const std::vector<uint8_t> head(b.begin(), b.begin() + std::min<size_t>(b.size(), 12));
  if (!known_format(head)) {
    // OpenCV would try every codec it was built with; some (GDCM for DICOM) abort the process
    // on malformed input. Only the formats adgap reads go to the decoders.
    throw ImageError(name + ": cannot decode as an image (unknown format or corrupt)");
  }
  if (head.size() >= 8 && std::equal(kPng, kPng + 8, head.begin())) {
    check_png(b, name);
  } else if (head.size() >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff) {
    check_jpeg(b, name);
  }
  // OpenCV prints its own multi-line warnings for undecodable files; we report once. Its log
  // level is the process's: it is restored right after decoding. imdecode applies a JPEG's
  // EXIF orientation as imread does.
  const QuietOpenCv quiet;
  cv::Mat img;
  try {
    if (b.size() <= kMaxImageFileBytes) {
      img = cv::imdecode(
          cv::Mat(1, static_cast<int>(b.size()), CV_8U, const_cast<uint8_t*>(b.data())), flags);
    }
  } catch (const cv::Exception&) {
  }
  if (img.empty())
    throw ImageError(name + ": cannot decode as an image (unknown format or corrupt)");
  if (int64_t{img.cols} * img.rows > max_image_pixels()) {  // TIFF, WebP: no header check above
    throw ImageTooLargeError(name + ": " + std::to_string(img.cols) + "x" +
                             std::to_string(img.rows) + " pixels, over the limit of " +
                             std::to_string(max_image_pixels()));
  }
  return img;
}

// The file is read once, then checked and decoded from memory.
cv::Mat load_checked(const std::string& path, int flags) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw ImageError(path + ": no such file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) throw ImageError(path + ": empty file");
  if (size > kMaxImageFileBytes) {
    throw ImageError(path + ": " + std::to_string(size) + " bytes, over the image file limit of " +
                     std::to_string(kMaxImageFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(path + ": cannot open");
  std::vector<uint8_t> b(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
  b.resize(static_cast<size_t>(in.gcount()));
  return decode_checked(b, path, flags);
}

}  // namespace

cv::Mat load_bgr(const std::string& path) { return load_checked(path, cv::IMREAD_COLOR); }

cv::Mat decode_bgr(const std::vector<uint8_t>& bytes, const std::string& name) {
  return decode_checked(bytes, name, cv::IMREAD_COLOR);
}

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
