// Small helpers shared by the tests: temporary directories and hand-made IDX files.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace adgap::test {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("adgap-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// IDX bytes: magic, dims, then payload.
inline std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                                      const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  put_be32(out, magic);
  for (uint32_t d : dims) put_be32(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

inline void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a tiny split: n images of h x w with pixel (i*7 + k) % 256, labels i % classes.
inline void write_split(const std::string& dir, const std::string& split, uint32_t n, uint32_t h,
                        uint32_t w, uint32_t classes, bool gz = false) {
  std::vector<uint8_t> px(size_t{n} * h * w), lb(n);
  for (size_t k = 0; k < px.size(); ++k) px[k] = static_cast<uint8_t>((k / (h * w) * 7 + k) % 256);
  for (uint32_t i = 0; i < n; ++i) lb[i] = static_cast<uint8_t>(i % classes);
  const std::string sfx = gz ? ".gz" : "";
  auto put = gz ? write_gzip : write_bytes;
  put(dir + "/" + split + "-images-idx3-ubyte" + sfx, idx_bytes(0x803, {n, h, w}, px));
  put(dir + "/" + split + "-labels-idx1-ubyte" + sfx, idx_bytes(0x801, {n}, lb));
}

// The project's MNIST copy (scripts/fetch_mnist.sh puts it there).
inline std::string mnist_dir() { return std::string(ADGAP_SOURCE_DIR) + "/data/mnist"; }

}  // namespace adgap::test
