// Fuzz target: the IDX reader (include/adgap/data/idx.h), raw and gzip-compressed, through a
// file as the product reads it. The first byte chooses the mode:
//   bit 0: 0 = images (read_idx_images), 1 = labels (read_idx_labels);
//   bit 1: 0 = the rest is the file as it is (raw IDX, or gzip bytes to mutate: corrupt and
//          truncated streams), 1 = the rest is gzip-compressed here first, so that every
//          mutation of the IDX bytes also goes through the gunzip path.
// The rest is also handed to parse_idx directly (the in-memory entry point).
// A thrown std::exception is a clean rejection; only sanitizer reports and signals are findings.
#include <zlib.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "adgap/data/idx.h"
#include "fuzz_util.h"

namespace {

// gzip (RFC 1952) of `size` bytes at `data`, as `gzip` writes it (zlib's deflate, window 15 + 16).
std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    std::abort();
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(size)) + 32);
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = adgap_fuzz::make_scratch_path("idx");
  if (size == 0) return 0;
  const bool labels = data[0] & 1, compress = data[0] & 2;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  const uint32_t magic = labels ? adgap::kIdxMagicLabels : adgap::kIdxMagicImages;
  try {
    adgap::parse_idx(std::vector<uint8_t>(body, body + n), magic, "input");
  } catch (const std::exception&) {
  }
  if (compress) {
    const std::vector<uint8_t> gz = gzip(body, n);
    adgap_fuzz::write_file(path, gz.data(), gz.size());
  } else {
    adgap_fuzz::write_file(path, body, n);
  }
  try {
    const adgap::IdxArray a = labels ? adgap::read_idx_labels(path) : adgap::read_idx_images(path);
    // What the reader promises: the payload is exactly prod(dims) bytes.
    uint64_t expect = 1;
    for (uint32_t d : a.dims) expect *= d;
    if (a.data.size() != expect) std::abort();
  } catch (const std::exception&) {
  }
  return 0;
}
