#include "adgap/io/png_stream.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstring>
#include <stdexcept>

namespace adgap {

struct PngRowWriter::Png {
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = "";
};

namespace {

void on_error(png_structp png, png_const_charp msg) {
  auto* p = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(p, 256, "%s", msg);
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

}  // namespace

PngRowWriter::PngRowWriter(const std::string& path, int width, int height, int channels)
    : path_(path), width_(width), height_(height), channels_(channels) {
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
    throw std::invalid_argument(path + ": PNG of " + std::to_string(width) + "x" +
                                std::to_string(height) + "x" + std::to_string(channels));
  }
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw std::runtime_error(path + ": cannot write (" + std::strerror(errno) + ")");
  png_ = new Png;
  png_->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, png_->message, on_error, on_warning);
  if (png_->png) png_->info = png_create_info_struct(png_->png);
  if (!png_->info) {
    close();
    throw std::runtime_error(path + ": out of memory for the PNG writer");
  }
  if (setjmp(png_jmpbuf(png_->png))) {
    const std::string why = png_->message;
    close();
    throw std::runtime_error(path + ": PNG writing failed (" + why + ")");
  }
  png_init_io(png_->png, file_);
  png_set_compression_level(png_->png, 1);  // fast, as PNG outputs of this size need
  png_set_IHDR(png_->png, png_->info, static_cast<png_uint_32>(width),
               static_cast<png_uint_32>(height), 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png_->png, png_->info);
  if (channels == 3) png_set_bgr(png_->png);
}

PngRowWriter::~PngRowWriter() { close(); }

void PngRowWriter::close() {
  if (png_) {
    if (png_->png) png_destroy_write_struct(&png_->png, png_->info ? &png_->info : nullptr);
    delete png_;
    png_ = nullptr;
  }
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

void PngRowWriter::write(const cv::Mat& rows) {
  if (!png_) throw std::logic_error(path_ + ": PNG writer already closed");
  if (rows.cols != width_ || rows.type() != CV_8UC(channels_) ||
      written_ + rows.rows > height_) {
    throw std::invalid_argument(path_ + ": rows do not fit the PNG being written");
  }
  if (setjmp(png_jmpbuf(png_->png))) {
    throw std::runtime_error(path_ + ": PNG writing failed (" + png_->message + ")");
  }
  for (int y = 0; y < rows.rows; ++y) {
    png_write_row(png_->png, const_cast<png_bytep>(rows.ptr<png_byte>(y)));
  }
  written_ += rows.rows;
}

void PngRowWriter::finish() {
  if (!png_) throw std::logic_error(path_ + ": PNG writer already closed");
  if (written_ != height_) {
    throw std::runtime_error(path_ + ": " + std::to_string(written_) + " of " +
                             std::to_string(height_) + " rows written");
  }
  if (setjmp(png_jmpbuf(png_->png))) {
    throw std::runtime_error(path_ + ": PNG writing failed (" + png_->message + ")");
  }
  png_write_end(png_->png, nullptr);
  png_destroy_write_struct(&png_->png, &png_->info);
  delete png_;
  png_ = nullptr;
  const bool flushed = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) throw std::runtime_error(path_ + ": write error");
}

}  // namespace adgap
