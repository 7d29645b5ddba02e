// PNG output that never leaves a half-written file.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

namespace adgap {

// Encodes an 8- or 16-bit, 1- or 3-channel image as PNG and writes it atomically.
void write_png_atomic(const std::string& path, const cv::Mat& img);

}  // namespace adgap
