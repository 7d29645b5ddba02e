// Integers read from JSON, checked. nlohmann's get<int>() of a number stored as a double (1e99,
// or an integer too long for 64 bits) converts it out of range, which is undefined behaviour;
// these take only integers, within the range the caller gives.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap {

// A short description of `v` for a message: a number or string itself (cut at 40 characters),
// else its type (dumping a nested value recurses once per level: a crafted file nested 100,000
// deep would overflow the stack).
inline std::string json_brief(const nlohmann::json& v) {
  return v.is_primitive() ? v.dump().substr(0, 40) : std::string(v.type_name());
}

class JsonIntError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `v` as an integer in [lo, hi]; throws JsonIntError otherwise (a float, a string, too large).
inline int64_t json_int(const nlohmann::json& v, int64_t lo = std::numeric_limits<int64_t>::min(),
                        int64_t hi = std::numeric_limits<int64_t>::max()) {
  bool ok = false;
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    ok = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (ok) x = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
    ok = true;
  }
  if (!ok || x < lo || x > hi) {
    throw JsonIntError(json_brief(v) + " is not an integer in [" + std::to_string(lo) +
                       ", " + std::to_string(hi) + "]");
  }
  return x;
}

// An array of such integers.
inline std::vector<int64_t> json_ints(const nlohmann::json& a,
                                      int64_t lo = std::numeric_limits<int64_t>::min(),
                                      int64_t hi = std::numeric_limits<int64_t>::max()) {
  if (!a.is_array()) throw JsonIntError(json_brief(a) + " is not an array of integers");
  std::vector<int64_t> out;
  out.reserve(a.size());
  for (const auto& v : a) out.push_back(json_int(v, lo, hi));
  return out;
}

// A non-negative integer up to 2^64 - 1 (seeds).
inline uint64_t json_uint64(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return static_cast<uint64_t>(json_int(v, 0));
}

}  // namespace adgap
