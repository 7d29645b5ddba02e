#include "adgap/io/checksum.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "adgap/io/limits.h"

namespace adgap {
namespace {

constexpr char kMagic[8] = {'A', 'D', 'G', 'A', 'P', 'S', 'U', 'M'};

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, std::string_view bytes) {
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {  // zlib takes uInt lengths
    const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    c = crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

std::string seal(std::string payload) {
  const uint32_t crc = crc32_update(0, payload);
  const uint64_t size = payload.size();
  payload.append(kMagic, sizeof kMagic);
  put_be(payload, size, 8);
  put_be(payload, crc, 4);
  return payload;
}

std::string_view unseal(std::string_view sealed, const std::string& name) {
  if (sealed.size() < kSealBytes ||
      std::memcmp(sealed.data() + sealed.size() - kSealBytes, kMagic, sizeof kMagic) != 0) {
    throw ChecksumError(name +
                        ": no adgap checksum at the end (damaged, not an adgap file, or written "
                        "by an adgap before checksums: retrain it)");
  }
  const char* trailer = sealed.data() + sealed.size() - kSealBytes;
  const uint64_t size = get_be(trailer + 8, 8);
  if (size != sealed.size() - kSealBytes) {
    throw ChecksumError(name + ": checksum trailer declares " + std::to_string(size) +
                        " bytes but the file holds " + std::to_string(sealed.size() - kSealBytes) +
                        " (truncated or damaged)");
  }
  const std::string_view payload = sealed.substr(0, size);
  if (crc32_update(0, payload) != static_cast<uint32_t>(get_be(trailer + 16, 4))) {
    throw ChecksumError(name + ": checksum mismatch (the file is damaged)");
  }
  return payload;
}

std::string read_sealed_file(const std::string& path, uint64_t max_bytes) {
  std::string bytes = read_whole_file(path, max_bytes, "adgap file");
  const std::string_view payload = unseal(bytes, path);
  bytes.resize(payload.size());
  return bytes;
}

}  // namespace adgap
