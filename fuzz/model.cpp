// Fuzz target: the model-file reader, adgap::load_model_bytes (include/adgap/model/model_file.h,
// what load_model runs on a file's bytes): the safetensors parser (io/safetensors.h), then
// adgap's metadata and tensor-table checks and the weights. The first byte chooses how the rest
// becomes the file (fuzz_util.h, safetensors_input): odd = as it is, even = with its checksum
// recomputed. A model that loads must be usable: one image of its declared input size goes
// through it. A thrown std::exception is a clean rejection; only sanitizer reports and signals
// are findings.
#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdint>
#include <exception>
#include <string>

#include "adgap/model/model_file.h"
#include "fuzz_util.h"

namespace {

constexpr int64_t kMaxForwardValues = int64_t{1} << 16;  // input values of the check's image

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    at::set_num_threads(1);  // one input at a time, on a shared machine
    return true;
  }();
  (void)once;
  std::string bytes;
  if (!adgap_fuzz::safetensors_input(data, size, &bytes)) return 0;
  try {
    adgap::LoadedModel m = adgap::load_model_bytes(bytes, "fuzz-model");
    const adgap::ModelMeta& meta = m.meta;
    // The forward pass only for small inputs (per-input work stays small).
    if (meta.in_channels * meta.input_size * meta.input_size > kMaxForwardValues) return 0;
    torch::NoGradGuard no_grad;
    const at::Tensor x = at::zeros({1, meta.in_channels, meta.input_size, meta.input_size});
    const at::Tensor y = m.net->forward(x);  // (1, num_classes)
    if (y.dim() != 2 || y.size(0) != 1 || y.size(1) != meta.num_classes) std::abort();
  } catch (const std::exception&) {
  }
  return 0;
}
