#include "adgap/io/limits.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "adgap/io/image.h"

namespace adgap {

std::string read_whole_file(const std::string& path, uint64_t max_bytes, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error(path + ": " + what + " not found");
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::runtime_error(path + ": not a regular file (expected the " + what + ")");
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error(path + ": cannot tell its size (" + ec.message() + ")");
  if (size > max_bytes) {
    throw std::runtime_error(path + ": " + std::to_string(size) + " bytes, over the " + what +
                             " limit of " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size || in.peek() != std::char_traits<char>::eof()) {
    throw std::runtime_error(path + ": changed size while being read");
  }
  return bytes;
}

namespace {

int64_t initial_max_pixels() {
  if (const char* env = std::getenv("ADGAP_MAX_PIXELS")) {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return v;
  }
  return kMaxImagePixels;
}

std::atomic<int64_t>& max_pixels() {
  static std::atomic<int64_t> v{initial_max_pixels()};
  return v;
}

}  // namespace

int64_t max_image_pixels() { return max_pixels().load(std::memory_order_relaxed); }

void set_max_image_pixels(int64_t n) {
  if (n < 1) throw std::invalid_argument("the pixel limit must be at least 1");
  max_pixels().store(n, std::memory_order_relaxed);
}

}  // namespace adgap
