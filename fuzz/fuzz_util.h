// Shared by the fuzz targets: a scratch file per process (the parsers under test take paths,
// as the product does), and the sealed-file trailer of model and checkpoint files.
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

// The 20-byte trailer adgap appends to model and checkpoint files (include/adgap/io/checksum.h),
// computed here so that the targets do not depend on that header: "ADGAPSUM", the payload's
// length as a 64-bit big-endian integer, zlib's CRC-32 of the payload, 32-bit big-endian.
inline std::string seal_trailer(const uint8_t* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < size;) {
    const uInt n = static_cast<uInt>(std::min<size_t>(size - done, 1u << 30));
    crc = crc32(crc, data + done, n);
    done += n;
  }
  std::string t = "ADGAPSUM";
  for (int i = 7; i >= 0; --i) t.push_back(static_cast<char>((uint64_t{size} >> (8 * i)) & 0xff));
  for (int i = 3; i >= 0; --i) t.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return t;
}

// Model and checkpoint inputs: the first byte chooses how the rest becomes the file. Odd: the
// rest as it is (unsealed and damaged files; seeds are files as adgap wrote them). Even: the
// rest with a valid trailer appended, so that LibTorch's archive reader and adgap's metadata
// checks see every mutation instead of a checksum refusal.
inline bool write_archive_input(const std::string& path, const uint8_t* data, size_t size) {
  if (size == 0) return false;
  const bool as_is = data[0] & 1;
  write_file(path, data + 1, size - 1, as_is ? std::string() : seal_trailer(data + 1, size - 1));
  return true;
}

}  // namespace adgap_fuzz
