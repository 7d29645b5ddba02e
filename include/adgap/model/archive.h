// LibTorch archives as adgap writes them: sealed with a whole-file checksum (io/checksum.h),
// written atomically, and checked before LibTorch parses a byte. Shared by model files and
// training checkpoints.
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <string>

namespace adgap {

// Model and checkpoint files larger than this are refused before they are read.
inline constexpr uint64_t kMaxArchiveBytes = uint64_t{2} << 30;  // 2 GiB

// Serialises `ar`, seals it and writes it to `path` atomically (temporary file, then rename).
void save_archive(const std::string& path, torch::serialize::OutputArchive& ar);

// Reads `path`, checks its size and checksum, then loads it into `ar`. Throws
// std::runtime_error naming the file (ChecksumError for a damaged or unsealed file).
void load_archive(const std::string& path, torch::serialize::InputArchive& ar);

}  // namespace adgap
