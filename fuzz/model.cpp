// Fuzz target: the model-file reader, adgap::load_model (include/adgap/model/model_file.h):
// adgap's whole-file checksum, LibTorch's archive reader, then adgap's metadata checks and the
// weights. The first byte chooses how the rest becomes the file (fuzz_util.h,
// write_archive_input): odd = as it is, even = with a valid checksum trailer appended.
// A model that loads must be usable: one image of its declared input size goes through it.
// A thrown std::exception (adgap's errors, c10::Error) is a clean rejection; only sanitizer
// reports and signals are findings.
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
  static const std::string path = [] {
    at::set_num_threads(1);  // one input at a time, on a shared machine
    return adgap_fuzz::make_scratch_path("model");
  }();
  if (!adgap_fuzz::write_archive_input(path, data, size)) return 0;
  try {
    adgap::LoadedModel m = adgap::load_model(path);
    const adgap::ModelMeta& meta = m.meta;
    // The forward pass only for small inputs (per-input work stays small; a huge declared
    // input size has already been allocated for, by the layers, in load_model).
    if (meta.in_channels * meta.input_size * meta.input_size > kMaxForwardValues) return 0;
    torch::NoGradGuard no_grad;
    const at::Tensor x = at::zeros({1, meta.in_channels, meta.input_size, meta.input_size});
    const at::Tensor y = m.net->forward(x);  // (1, num_classes)
    if (y.dim() != 2 || y.size(0) != 1 || y.size(1) != meta.num_classes) std::abort();
  } catch (const std::exception&) {
  }
  return 0;
}
