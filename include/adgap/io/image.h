// Reading photos safely: a clear error naming the file for a missing, empty, undecodable,
// 0x0 or absurdly large image, checked from the header before anything is decoded.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An image declaring more pixels than max_image_pixels() (io/limits.h).
class ImageTooLargeError : public ImageError {
 public:
  using ImageError::ImageError;
};

// The default pixel limit (io/limits.h: max_image_pixels), OpenCV's own decode limit.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 30;

// Image files larger than this are refused before reading: the most cv::imdecode takes (files
// are read once and decoded from memory).
inline constexpr uint64_t kMaxImageFileBytes = (uint64_t{1} << 31) - 1;

// Width and height a PNG, JPEG, BMP or PNM header declares; {-1, -1} for other formats.
cv::Size declared_size(const std::string& path);

// Decodes `path` as 8-bit BGR. Throws ImageError naming the file and the problem.
cv::Mat load_bgr(const std::string& path);
// The same for a file's bytes in memory (an upload); `name` starts every error.
cv::Mat decode_bgr(const std::vector<uint8_t>& bytes, const std::string& name);
// load_bgr, but a grayscale file stays one channel (a third of the memory); colour is BGR.
cv::Mat load_image(const std::string& path);

// 8-bit grayscale of a BGR (or already gray) image.
cv::Mat to_gray(const cv::Mat& img);

}  // namespace adgap
