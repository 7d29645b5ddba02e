#include "adgap/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "adgap/io/atomic_file.h"
#include "adgap/io/checksum.h"
#include "adgap/io/limits.h"
#include "adgap/util/json_int.h"

namespace adgap {

static_assert(sizeof(float) == 4, "F32 data is copied as 4-byte floats");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader copies it as it is"
#endif

namespace {

constexpr uint64_t kMaxDim = uint64_t{1} << 40;  // one dimension's extent
constexpr size_t kCrcDigits = 8;

// CRC-32 of `bytes` with the kCrcDigits at `digits` read as '0's (the checksum's own field).
uint32_t crc_of(const std::string& bytes, size_t digits) {
  const std::string_view all(bytes);
  uint32_t crc = crc32_update(0, all.substr(0, digits));
  crc = crc32_update(crc, std::string(kCrcDigits, '0'));
  return crc32_update(crc, all.substr(digits + kCrcDigits));
}

std::string hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

}  // namespace

int json_nesting_depth(const std::string& text, size_t begin, size_t end, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

namespace {

uint64_t read_le64(const std::string& b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

void put_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct Entry {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

}  // namespace

const NamedTensor& SafetensorsFile::at(const std::string& name, const std::string& source) const {
  for (const NamedTensor& t : tensors) {
    if (t.name == name) return t;
  }
  throw SafetensorsError(source + ": no tensor '" + name + "'");
}

const std::string& SafetensorsFile::meta(const std::string& key, const std::string& source) const {
  const auto it = metadata.find(key);
  if (it == metadata.end()) throw SafetensorsError(source + ": no metadata '" + key + "'");
  return it->second;
}

bool looks_like_safetensors(const std::string& bytes) {
  return bytes.size() >= 10 && read_le64(bytes) >= 2 && bytes[8] == '{';
}

std::string serialize_safetensors(const SafetensorsFile& f) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  for (const auto& [k, v] : f.metadata) {
    if (k == kCrcKey) throw std::invalid_argument("metadata key adgap_crc32 is adgap's own");
    meta[k] = v;
  }
  meta[kCrcKey] = std::string(kCrcDigits, '0');
  header["__metadata__"] = meta;
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const NamedTensor& t : f.tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      throw std::invalid_argument("tensor name '" + t.name + "' is reserved or repeated");
    }
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    if (count != t.values.size()) {
      throw std::invalid_argument("tensor '" + t.name + "' has " +
                                  std::to_string(t.values.size()) + " values for its shape");
    }
    const uint64_t bytes = count * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out;
  out.reserve(8 + text.size() + offset);
  put_le64(out, text.size());
  out += text;
  for (const NamedTensor& t : f.tensors) {
    out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  const std::string placeholder = std::string("\"") + kCrcKey + "\":\"" +
                                  std::string(kCrcDigits, '0') + "\"";
  // The header's (the first) occurrence: quotes inside JSON strings are escaped.
  const size_t digits = out.find(placeholder) + placeholder.size() - 1 - kCrcDigits;
  out.replace(digits, kCrcDigits, hex8(crc_of(out, digits)));
  return out;
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source) {
  const auto fail = [&](const std::string& why) { throw SafetensorsError(source + ": " + why); };
  if (bytes.size() < 8) fail("too short for a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  const uint64_t n = read_le64(bytes);
  if (n > kMaxSafetensorsHeader) {
    fail("header length " + std::to_string(n) + " is over the limit of " +
         std::to_string(kMaxSafetensorsHeader));
  }
  if (n > bytes.size() - 8) {
    fail("header length " + std::to_string(n) + " runs past the end of the file (" +
         std::to_string(bytes.size()) + " bytes): truncated or not safetensors");
  }
  const size_t data_start = 8 + static_cast<size_t>(n);
  if (json_nesting_depth(bytes, 8, data_start, kMaxHeaderDepth) > kMaxHeaderDepth) {
    fail("header nests deeper than a safetensors header does");
  }
  const nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + data_start,
                                                      nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) fail("header is not a JSON object");

  SafetensorsFile f;
  std::string crc_text;
  std::vector<Entry> entries;
  try {
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        if (!value.is_object()) fail("__metadata__ is not an object");
        for (const auto& [k, v] : value.items()) {
          if (!v.is_string()) fail("metadata '" + k + "' is not a string");
          if (k == kCrcKey) {
            crc_text = v.get<std::string>();
          } else {
            f.metadata[k] = v.get<std::string>();
          }
        }
        continue;
      }
      if (!value.is_object() || value.size() != 3) {
        fail("tensor '" + key + "' is not {dtype, shape, data_offsets}");
      }
      const std::string dtype = value.at("dtype").get<std::string>();
      if (dtype != "F32") fail("tensor '" + key + "' has dtype " + dtype + "; adgap reads F32 only");
      Entry e;
      e.name = key;
      if (!value.at("shape").is_array() || value.at("shape").size() > kMaxTensorDims) {
        fail("tensor '" + key + "' has a shape of too many dimensions, or none");
      }
      e.shape = json_ints(value.at("shape"), 0, static_cast<int64_t>(kMaxDim));
      const std::vector<int64_t> off = json_ints(value.at("data_offsets"), 0);
      if (off.size() != 2 || off[0] > off[1]) fail("tensor '" + key + "' has bad data_offsets");
      e.begin = static_cast<uint64_t>(off[0]);
      e.end = static_cast<uint64_t>(off[1]);
      // The values the shape holds, bounded by the data's (so count * 4 cannot wrap).
      const uint64_t most = (bytes.size() - 8 - n) / sizeof(float);
      uint64_t count = 1;
      for (int64_t d : e.shape) {
        if (d != 0 && count > most / static_cast<uint64_t>(d)) {
          fail("tensor '" + key + "' has a shape too large for the file");
        }
        count *= static_cast<uint64_t>(d);
      }
      if (count * sizeof(float) != e.end - e.begin) {
        fail("tensor '" + key + "': shape holds " + std::to_string(count * sizeof(float)) +
             " bytes but data_offsets span " + std::to_string(e.end - e.begin));
      }
      entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("bad tensor entry (") + e.what() + ")");
  } catch (const JsonIntError& e) {
    fail(std::string("bad tensor entry (") + e.what() + ")");
  }
  // The data: ranges in order, no gap, no overlap, nothing left over.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
  const uint64_t data_size = bytes.size() - data_start;
  uint64_t next = 0;
  for (const Entry& e : entries) {
    if (e.begin != next) {
      fail("tensor '" + e.name + "' starts at data byte " + std::to_string(e.begin) +
           ", expected " + std::to_string(next) + " (a gap or an overlap)");
    }
    next = e.end;
  }
  if (next != data_size) {
    fail("the tensors cover " + std::to_string(next) + " data bytes but the file holds " +
         std::to_string(data_size));
  }
  // The checksum, before any value is used.
  if (crc_text.size() != kCrcDigits ||
      crc_text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    fail("no adgap checksum in the metadata (not written by adgap, or damaged)");
  }
  const std::string field = std::string("\"") + kCrcKey + "\":\"" + crc_text + "\"";
  const size_t at = bytes.find(field, 8);
  if (at == std::string::npos || at + field.size() > data_start) {
    fail("checksum field not where adgap writes it (damaged)");
  }
  if (hex8(crc_of(bytes, at + field.size() - 1 - kCrcDigits)) != crc_text) {
    fail("checksum mismatch (the file is damaged)");
  }

  for (const Entry& e : entries) {
    NamedTensor t;
    t.name = e.name;
    t.shape = e.shape;
    t.values.resize((e.end - e.begin) / sizeof(float));
    if (!t.values.empty()) std::memcpy(t.values.data(), bytes.data() + data_start + e.begin, e.end - e.begin);
    f.tensors.push_back(std::move(t));
  }
  return f;
}

void write_safetensors_file(const std::string& path, const SafetensorsFile& f) {
  atomic_write_text(path, serialize_safetensors(f));
}

SafetensorsFile read_safetensors_file(const std::string& path, uint64_t max_bytes) {
  return parse_safetensors(read_whole_file(path, max_bytes, "safetensors file"), path);
}

}  // namespace adgap
