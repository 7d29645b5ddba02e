#include "adgap/io/png.h"

#include <opencv2/imgcodecs.hpp>

#include <stdexcept>
#include <vector>

#include "adgap/io/atomic_file.h"

namespace adgap {

void write_png_atomic(const std::string& path, const cv::Mat& img) {
  std::vector<uchar> buf;
  if (img.empty() || !cv::imencode(".png", img, buf)) {
    throw std::runtime_error(path + ": PNG encoding failed");
  }
  atomic_write_text(path, std::string(buf.begin(), buf.end()));
}

}  // namespace adgap
