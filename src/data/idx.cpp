// IDX decoding with every size checked before use (see include/adgap/data/idx.h).
#include "adgap/data/idx.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace adgap {
namespace {

// No IDX file we read comes near this; it bounds memory for a hostile declared size.
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 34;  // 16 GiB
// A file (raw, or gzip) is at most that plus the largest header (255 dimensions).
constexpr uint64_t kMaxFileBytes = kMaxPayloadBytes + 4 + 4 * 255;

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Backs [p, p + bytes) with memory now, in huge pages where the kernel allows: one system call
// instead of a page fault per 4 KiB page touched (on the virtual machines measured, some
// 15 us each: reading MNIST's training images took 0.17 s, prefaulted 0.02 s). Advice only:
// a kernel without these calls pays the page faults as before.
void prefault(void* p, size_t bytes) {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
  const uintptr_t page = 4096, huge = uintptr_t{2} << 20;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p), end = begin + bytes;
  const uintptr_t huge_begin = (begin + huge - 1) & ~(huge - 1);
  if (end > huge_begin) madvise(reinterpret_cast<void*>(huge_begin), end - huge_begin, MADV_HUGEPAGE);
  const uintptr_t page_begin = (begin + page - 1) & ~(page - 1), page_end = end & ~(page - 1);
  if (page_end > page_begin) {
    madvise(reinterpret_cast<void*>(page_begin), page_end - page_begin, MADV_POPULATE_WRITE);
  }
#else
  (void)p;
  (void)bytes;
#endif
}

std::vector<uint8_t> read_raw(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw IdxError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> out;
  // The file's size up front, when it can be told, lets it be read straight into one buffer
  // (fresh memory costs a page fault per page touched: one buffer, not a growing one); what is
  // read decides, and anything beyond that size is read after it.
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(f.get());
    std::rewind(f.get());
    if (size > 0 && static_cast<uint64_t>(size) > kMaxFileBytes) {
      throw IdxError(path + ": " + std::to_string(size) + " bytes, over the 16 GiB limit");
    }
    if (size > 0 && static_cast<uint64_t>(size) <= kMaxPayloadBytes) {
      out.reserve(static_cast<size_t>(size));
      prefault(out.data(), out.capacity());
      out.resize(static_cast<size_t>(size));
      out.resize(std::fread(out.data(), 1, out.size(), f.get()));
    }
  }
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    out.insert(out.end(), buf, buf + n);
    if (out.size() > kMaxFileBytes) throw IdxError(path + ": over the 16 GiB limit");
  }
  if (std::ferror(f.get())) throw IdxError(path + ": read error");
  return out;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw IdxError(path + ": zlib initialisation failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      const std::string why = rc == Z_BUF_ERROR ? "truncated gzip stream"
                                                : std::string("corrupt gzip data (") +
                                                      (zs.msg ? zs.msg : "zlib error") + ")";
      throw IdxError(path + ": " + why);
    }
    out.insert(out.end(), buf, buf + (sizeof buf - zs.avail_out));
    if (out.size() > kMaxPayloadBytes) {
      inflateEnd(&zs);
      throw IdxError(path + ": decompressed size exceeds the 16 GiB limit");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace

std::vector<uint8_t> read_file_maybe_gzip(const std::string& path) {
  if (path.size() > std::numeric_limits<uInt>::max()) throw IdxError("path too long");
  std::vector<uint8_t> raw = read_raw(path);
  const bool gz = raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
  if (gz) return gunzip(raw, path);
  return raw;  // moved, not copied (a conditional expression would copy it)
}

namespace {

// The dimensions of an IDX buffer, checked against its size; *header: the header's length.
std::vector<uint32_t> idx_dims(const std::vector<uint8_t>& bytes, uint32_t expected_magic,
                               const std::string& name, uint64_t* header_bytes) {
  if (bytes.size() < 4) {
    throw IdxError(name + ": too short for an IDX header (" + std::to_string(bytes.size()) +
                   " bytes)");
  }
  const uint32_t magic = read_be32(bytes.data());
  if (magic != expected_magic) {
    throw IdxError(name + ": wrong magic number " + hex32(magic) + ", expected " +
                   hex32(expected_magic) + " (is this the right IDX file?)");
  }
  const uint32_t ndim = magic & 0xff;
  const uint64_t header = 4 + 4 * uint64_t{ndim};
  if (bytes.size() < header) {
    throw IdxError(name + ": truncated header (" + std::to_string(bytes.size()) + " of " +
                   std::to_string(header) + " bytes)");
  }
  std::vector<uint32_t> dims;
  uint64_t payload = 1;
  for (uint32_t i = 0; i < ndim; ++i) {
    const uint32_t d = read_be32(bytes.data() + 4 + 4 * i);
    dims.push_back(d);
    // Overflow-checked product: payload * d must stay below the limit.
    if (d != 0 && payload > kMaxPayloadBytes / d) {
      throw IdxError(name + ": declared size is absurd (dimension " + std::to_string(i) + " = " +
                     std::to_string(d) + ")");
    }
    payload *= d;
  }
  const uint64_t have = bytes.size() - header;
  if (have != payload) {
    throw IdxError(name + ": payload is " + std::to_string(have) +
                   " bytes but the header declares " + std::to_string(payload) +
                   (have < payload ? " (file truncated)" : " (trailing data)"));
  }
  *header_bytes = header;
  return dims;
}

}  // namespace

IdxArray parse_idx(const std::vector<uint8_t>& bytes, uint32_t expected_magic,
                   const std::string& name) {
  IdxArray out;
  uint64_t header = 0;
  out.dims = idx_dims(bytes, expected_magic, name, &header);
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

IdxArray parse_idx(std::vector<uint8_t>&& bytes, uint32_t expected_magic,
                   const std::string& name) {
  IdxArray out;
  uint64_t header = 0;
  out.dims = idx_dims(bytes, expected_magic, name, &header);
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  out.data = std::move(bytes);
  return out;
}

IdxArray read_idx_images(const std::string& path) {
  IdxArray a = parse_idx(read_file_maybe_gzip(path), kIdxMagicImages, path);
  if (a.dims[1] == 0 || a.dims[2] == 0) {
    throw IdxError(path + ": image size " + std::to_string(a.dims[1]) + "x" +
                   std::to_string(a.dims[2]) + " is empty");
  }
  return a;
}

IdxArray read_idx_labels(const std::string& path) {
  return parse_idx(read_file_maybe_gzip(path), kIdxMagicLabels, path);
}

}  // namespace adgap
