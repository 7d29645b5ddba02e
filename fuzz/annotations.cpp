// Fuzz target: the real-photo annotation reader, adgap::load_real_photos
// (include/adgap/eval/loc_bench.h; the real file is bench/real_photos.json), through a file as
// `adgap bench-loc` reads it. The photos it names are loaded too: the seeds name small images
// under fuzz/corpus/image/ (relative paths: run from the repository root, as scripts/fuzz.sh and
// the replay tests do). Odd-sized inputs also read the "negatives" list. As for the image
// target, scripts/fuzz.sh holds OpenCV's decoders to 2^24 pixels.
// A thrown std::exception is a clean rejection; only sanitizer reports and signals are findings.
#include <opencv2/core.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "adgap/eval/loc_bench.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    cv::setNumThreads(1);
    return adgap_fuzz::make_scratch_path("annotations");
  }();
  adgap_fuzz::write_file(path, data, size);
  try {
    const bool negatives = size & 1;
    for (const adgap::RealPhoto& p : adgap::load_real_photos(path, negatives)) {
      if (p.gray.empty() || p.gray.channels() != 1) std::abort();
    }
  } catch (const std::exception&) {
  }
  return 0;
}
