// Fuzz target: the JSONL reader of `adgap detect --jsonl FILE --resume` (adgap::read_jsonl,
// include/adgap/batch.h, and image_result_from_json line by line). Every result it accepts is
// written back with to_json, as a resumed run rewrites the file, and that line must be read
// back to the same result: a mismatch aborts (a finding), as do sanitizer reports and signals.
// A thrown std::exception is a clean rejection.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "adgap/adgap.h"
#include "adgap/batch.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = adgap_fuzz::make_scratch_path("jsonl");
  adgap_fuzz::write_file(path, data, size);
  try {
    for (const adgap::ImageResult& r : adgap::read_jsonl(path)) {
      const std::string line = adgap::to_json(r);
      const adgap::ImageResult back = adgap::image_result_from_json(line);
      if (adgap::to_json(back) != line) std::abort();
    }
  } catch (const std::exception&) {
  }
  return 0;
}
