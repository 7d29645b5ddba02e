// Whole-file checksums for adgap's binary files (models and training checkpoints).
//
// A sealed file is its payload followed by a 20-byte trailer: the 8 ASCII bytes "ADGAPSUM",
// the payload's length (64-bit big-endian) and zlib's CRC-32 of the payload (32-bit
// big-endian). CRC-32 catches every single flipped byte and every burst of up to 32 bits, so a
// damaged file is refused with one line before any of it is parsed.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace adgap {

// Thrown for a file whose trailer is missing or disagrees with its contents; what() names it.
class ChecksumError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr size_t kSealBytes = 20;

// zlib's CRC-32 of `bytes` continued from `crc` (0 to start), for inputs of any length.
uint32_t crc32_update(uint32_t crc, std::string_view bytes);

// `payload` with the trailer appended.
std::string seal(std::string payload);

// The payload of sealed bytes; throws ChecksumError naming `name` when the trailer is missing,
// its length disagrees with the bytes, or the CRC does not match.
std::string_view unseal(std::string_view sealed, const std::string& name);

// Reads the whole file at `path` (refusing one over `max_bytes` before reading it) and returns
// its payload. Throws std::runtime_error (ChecksumError for a bad trailer) naming the file.
std::string read_sealed_file(const std::string& path, uint64_t max_bytes);

}  // namespace adgap
