// IDX files (the MNIST container format), raw or gzip-compressed.
//
// An IDX file is a big-endian header - magic number (0x0000 0x08 ndim for unsigned bytes),
// then ndim 32-bit dimensions - followed by exactly prod(dims) payload bytes. This reader
// checks all of it and throws adgap::IdxError naming the file and the defect; it never
// trusts a declared size before checking it against what the file holds.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap {

// Thrown for any malformed or unreadable IDX file; what() names the file.
class IdxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A decoded unsigned-byte IDX array.
struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {N, 28, 28} for images, {N} for labels
  std::vector<uint8_t> data;   // row-major, prod(dims) bytes
};

inline constexpr uint32_t kIdxMagicImages = 0x00000803;  // ubyte, 3 dimensions
inline constexpr uint32_t kIdxMagicLabels = 0x00000801;  // ubyte, 1 dimension

// Reads a whole file into memory, transparently gunzipping it when it starts with the gzip
// magic bytes. Throws IdxError for a missing, unreadable or corrupt (e.g. truncated gzip) file.
std::vector<uint8_t> read_file_maybe_gzip(const std::string& path);

// Decodes an IDX buffer whose magic number must equal `expected_magic`. `name` is used in
// error messages (normally the file path).
IdxArray parse_idx(const std::vector<uint8_t>& bytes, uint32_t expected_magic,
                   const std::string& name);
// The same, taking the buffer over (no copy of the payload).
IdxArray parse_idx(std::vector<uint8_t>&& bytes, uint32_t expected_magic, const std::string& name);

// Images: magic 0x803, dims {N, rows, cols} with rows, cols > 0.
IdxArray read_idx_images(const std::string& path);
// Labels: magic 0x801, dims {N}.
IdxArray read_idx_labels(const std::string& path);

}  // namespace adgap
