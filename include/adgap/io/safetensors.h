// safetensors files, read and written by adgap itself: every network and training checkpoint
// adgap writes is one.
//
// Layout (the format's own, readable by any safetensors reader, or by `json` and `numpy`):
//   8 bytes    N, the header's length, unsigned little-endian
//   N bytes    a JSON object: for each tensor {"dtype": "F32", "shape": [...],
//              "data_offsets": [begin, end]} (offsets into the data, end exclusive), and
//              "__metadata__": string -> string; padded with spaces to a multiple of 8
//   the data   the tensors' values, raw little-endian, one after another
//
// adgap's files carry one metadata entry more, "adgap_crc32": zlib's CRC-32 (8 lowercase hex
// digits) of the whole file with those 8 digits written as "00000000". A flipped byte anywhere
// is refused with one line before any value is used.
//
// The reader trusts nothing: the header's length is bounded, its JSON nested at most
// kMaxHeaderDepth deep, every tensor F32 with a shape whose size matches its byte range, the
// ranges in order without gap or overlap and covering the data exactly. So a crafted file
// can neither crash it nor make it allocate more than the file's own size.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap {

// A file that is not valid safetensors, or whose checksum disagrees; what() names the file.
class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr uint64_t kMaxSafetensorsHeader = uint64_t{16} << 20;  // 16 MiB of JSON
inline constexpr int kMaxHeaderDepth = 3;  // {tensor: {"shape": [..]}}
inline constexpr size_t kMaxTensorDims = 8;
inline constexpr const char* kCrcKey = "adgap_crc32";

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;  // empty: a scalar
  std::vector<float> values;   // product of shape, row-major
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // without adgap_crc32
  std::vector<NamedTensor> tensors;             // in file order

  // The tensor `name`; throws SafetensorsError naming `source` when it is absent.
  const NamedTensor& at(const std::string& name, const std::string& source) const;
  // The metadata entry `key`; throws SafetensorsError naming `source` when it is absent.
  const std::string& meta(const std::string& key, const std::string& source) const;
};

// The bytes of a safetensors file holding `f` (tensors in the order given), with adgap's
// checksum. Tensor names must be unique and not "__metadata__"; values must match shapes.
std::string serialize_safetensors(const SafetensorsFile& f);

// Parses and checks `bytes` (see above); errors name `source`.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source);

// The deepest nesting of JSON objects and arrays in text[begin, end), outside strings; stops
// counting past `limit` (one pass, no recursion: check before parsing text one did not write).
int json_nesting_depth(const std::string& text, size_t begin, size_t end, int limit);

// True when `bytes` begin like a safetensors file (a length, then '{').
bool looks_like_safetensors(const std::string& bytes);

// Writes `f` to `path` (atomic_write) / reads and parses the file at `path` (refusing one over
// `max_bytes` before reading it).
void write_safetensors_file(const std::string& path, const SafetensorsFile& f);
SafetensorsFile read_safetensors_file(const std::string& path, uint64_t max_bytes);

}  // namespace adgap
