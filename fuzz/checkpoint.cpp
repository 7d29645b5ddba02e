// Fuzz target: the training-checkpoint reader, adgap::load_checkpoint
// (include/adgap/train/checkpoint.h), called as src/train/trainer.cpp calls it on --resume:
// into a freshly built LeNet and its Adam optimiser. The network has the layer widths of the
// seeds (fuzz/make_seeds.sh writes small "lenet-wide" checkpoints). The first byte chooses how
// the rest becomes the file (fuzz_util.h, safetensors_input): odd = as it is, even = with its
// checksum recomputed.
// A thrown std::exception (adgap's errors, c10::Error, nlohmann's) is a clean rejection; only
// sanitizer reports and signals are findings.
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <exception>
#include <string>

#include "adgap/train/checkpoint.h"
#include "fuzz_util.h"
#include "seed_shapes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    at::set_num_threads(1);  // one input at a time, on a shared machine
    return adgap_fuzz::make_scratch_path("checkpoint");
  }();
  std::string bytes;
  if (!adgap_fuzz::safetensors_input(data, size, &bytes)) return 0;
  adgap_fuzz::write_file(path, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    // As train_model builds them before a resume (src/train/trainer.cpp).
    adgap::TrainResult r;
    r.meta = adgap_fuzz::seed_meta();
    r.net = adgap::LeNet(r.meta.net_options());
    torch::optim::Adam opt(r.net->parameters(), torch::optim::AdamOptions(/*lr=*/1e-3));
    adgap::TrainProgress prog;
    prog.result = &r;
    prog.config = adgap_fuzz::seed_config();
    adgap::load_checkpoint(path, r.net, r.meta, opt, prog);
  } catch (const std::exception&) {
  }
  return 0;
}
