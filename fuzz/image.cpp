// Fuzz target: the image loader (include/adgap/io/image.h): the header size check
// (declared_size) and the decoding behind it (load_image, then to_gray), through a file as the
// product reads photos. The whole input is the file.
// adgap accepts images up to kMaxImagePixels (2^30, OpenCV's own limit): a 30-byte file may
// rightly ask for gigabytes, above the fuzzer's 2 GB memory limit. scripts/fuzz.sh therefore
// holds OpenCV's decoders to 2^24 pixels (OPENCV_IO_MAX_IMAGE_PIXELS, which OpenCV reads when
// it is loaded, so it must be set before the process starts); adgap's own check still sees
// every declared size.
// A thrown std::exception is a clean rejection; only sanitizer reports and signals are findings.
#include <opencv2/core.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "adgap/io/image.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    cv::setNumThreads(1);
    return adgap_fuzz::make_scratch_path("image");
  }();
  adgap_fuzz::write_file(path, data, size);
  try {
    const cv::Size d = adgap::declared_size(path);
    const cv::Mat img = adgap::load_image(path);
    // What the loader promises: 8-bit, gray or BGR.
    if (img.empty() || img.depth() != CV_8U || (img.channels() != 1 && img.channels() != 3))
      std::abort();
    // The size check must bound what is decoded: no more pixels than the header declared
    // (the same number; EXIF orientation may swap width and height).
    if (d.width > 0 && int64_t{img.cols} * img.rows > int64_t{d.width} * d.height) std::abort();
    const cv::Mat gray = adgap::to_gray(img);
    if (gray.channels() != 1 || gray.size() != img.size()) std::abort();
  } catch (const std::exception&) {
  }
  return 0;
}
