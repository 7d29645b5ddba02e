// Shared by the fuzz targets: a scratch file per process (the parsers under test take paths,
// as the product does), and the checksum of model and checkpoint files.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace adgap_fuzz {

// A scratch file path for this process, in /dev/shm when it is writable (no disk traffic),
// else $TMPDIR or /tmp; `tag` names the target. The file is removed at exit. Call once per
// process and keep the path (one file, rewritten for every input).
inline std::string make_scratch_path(const std::string& tag) {
  std::string dir = "/dev/shm";
  if (access(dir.c_str(), W_OK) != 0) {
    const char* t = std::getenv("TMPDIR");
    dir = t && *t ? t : "/tmp";
  }
  static std::vector<std::string> made;
  made.push_back(dir + "/adgap-fuzz-" + tag + "-" + std::to_string(getpid()));
  if (made.size() == 1) {
    std::atexit([] {
      for (const std::string& p : made) std::remove(p.c_str());
    });
  }
  return made.back();
}

// Writes `size` bytes at `data` (then `tail`, when given) to `path`, replacing it.
inline void write_file(const std::string& path, const uint8_t* data, size_t size,
                       const std::string& tail = {}) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.write(tail.data(), static_cast<std::streamsize>(tail.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write the scratch file %s\n", path.c_str());
    std::abort();
  }
}

// The bytes of a safetensors input with adgap's checksum field (metadata "adgap_crc32", see
// include/adgap/io/safetensors.h) recomputed for them, computed here so that the targets do
// not depend on the library's writer: zlib's CRC-32 of the whole file with the field's 8 hex
// digits read as '0's. Bytes without such a field come back as they are.
inline std::string reseal_safetensors(std::string bytes) {
  const std::string key = "\"adgap_crc32\":\"";
  const size_t at = bytes.find(key);
  if (at == std::string::npos || at + key.size() + 8 > bytes.size()) return bytes;
  const size_t digits = at + key.size();
  bytes.replace(digits, 8, "00000000");
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < bytes.size();) {
    const uInt n = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
    done += n;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc));
  bytes.replace(digits, 8, hex);
  return bytes;
}

// Model and checkpoint inputs: the first byte chooses how the rest becomes the file. Odd: the
// rest as it is (damaged files; seeds are files as adgap wrote them). Even: the rest with its
// checksum recomputed, so that the header checks and adgap's metadata checks see every
// mutation instead of a checksum refusal.
inline bool safetensors_input(const uint8_t* data, size_t size, std::string* out) {
  if (size == 0) return false;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  *out = (data[0] & 1) ? std::move(rest) : reseal_safetensors(std::move(rest));
  return true;
}

}  // namespace adgap_fuzz
