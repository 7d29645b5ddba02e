// PNG written row band by row band (libpng), for outputs too large to hold whole: memory is
// one band, whatever the image's height. Use inside atomic_write so that a failure leaves no
// half-written file under the final name.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdio>
#include <string>

namespace adgap {

class PngRowWriter {
 public:
  // Opens `path` for an 8-bit PNG of width x height, 1 (gray) or 3 (BGR) channels.
  PngRowWriter(const std::string& path, int width, int height, int channels);
  ~PngRowWriter();
  PngRowWriter(const PngRowWriter&) = delete;
  PngRowWriter& operator=(const PngRowWriter&) = delete;

  // The next rows: CV_8UC1 or CV_8UC3 (BGR), `width` columns.
  void write(const cv::Mat& rows);
  // After the last row: completes the file (std::runtime_error unless every row was written).
  void finish();

 private:
  struct Png;
  void close();  // releases libpng's state and the file, whatever state they are in
  std::string path_;
  int width_, height_, channels_, written_ = 0;
  std::FILE* file_ = nullptr;
  Png* png_ = nullptr;
};

}  // namespace adgap
