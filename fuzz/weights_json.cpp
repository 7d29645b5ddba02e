// Fuzz target: the filter-importance file reader, adgap::load_importance
// (include/adgap/importance/importance.h), through a file as `adgap heatmap` reads weights.json.
// After a successful load, every weight vector a heatmap may ask for (global and per class, by
// loss and by error) is taken: the sizes the loader checked must make those reads safe.
// A thrown std::exception is a clean rejection; only sanitizer reports and signals are findings.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>

#include "adgap/importance/importance.h"
#include "fuzz_util.h"

namespace {

constexpr int64_t kMaxClassesTried = 1024;  // bounds the per-input work for huge class counts

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = adgap_fuzz::make_scratch_path("weights_json");
  adgap_fuzz::write_file(path, data, size);
  try {
    const adgap::FilterImportance imp = adgap::load_importance(path);
    for (int64_t c = -1; c < std::min(imp.classes, kMaxClassesTried); ++c) {
      for (bool by_error : {false, true}) {
        if (static_cast<int64_t>(imp.weights(c, by_error).size()) != imp.channels) std::abort();
      }
    }
  } catch (const std::exception&) {
  }
  return 0;
}
