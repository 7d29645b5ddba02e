// Limits on what adgap reads, each checked before memory is allocated for the content.
#pragma once

#include <cstdint>
#include <string>

namespace adgap {

inline constexpr uint64_t kMaxJsonBytes = uint64_t{64} << 20;   // weights.json, annotations
inline constexpr uint64_t kMaxListBytes = uint64_t{256} << 20;  // lists of image paths

// The whole file at `path` (`what` names its role in messages: "filter-importance file").
// Throws std::runtime_error naming the file when it is missing, not a regular file, or over
// `max_bytes` (refused before reading it).
std::string read_whole_file(const std::string& path, uint64_t max_bytes, const std::string& what);

// The pixel limit of the image loaders (io/image.h): images declaring more pixels are refused
// before decoding. Default kMaxImagePixels, or $ADGAP_MAX_PIXELS when set to a positive number;
// set_max_image_pixels changes it for the process (n >= 1).
int64_t max_image_pixels();
void set_max_image_pixels(int64_t n);

}  // namespace adgap
