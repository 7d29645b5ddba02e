// Writes the small model and checkpoint seeds with adgap's own writers (save_model,
// save_checkpoint): a "lenet-wide" network of the narrowest widths (seed_shapes.h), so that a
// file is a few KB. The checkpoint is written after one real Adam step, so that it holds the
// optimiser's per-parameter state, as a checkpoint written during training does.
// Usage: adgap_fuzz_make_seeds OUT_DIR  (writes model-small.safetensors, checkpoint-small.safetensors and
// checkpoint-small-fresh.safetensors, the last before any step). Run by fuzz/make_seeds.sh.
#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <cstdio>
#include <random>
#include <sstream>
#include <string>

#include "adgap/train/checkpoint.h"
#include "seed_shapes.h"

namespace {

// std::mt19937_64's state as its stream operator writes it (TrainProgress::rng_state).
std::string state_of(const std::mt19937_64& rng) {
  std::ostringstream s;
  s << rng;
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  try {
    at::manual_seed(7);
    adgap::TrainResult r;
    r.meta = adgap_fuzz::seed_meta();
    r.net = adgap::LeNet(r.meta.net_options());
    adgap::save_model(out + "/model-small.safetensors", r.net, r.meta);

    torch::optim::Adam opt(r.net->parameters(), torch::optim::AdamOptions(/*lr=*/1e-3));
    std::mt19937_64 rng(r.meta.seed);
    adgap::TrainProgress prog;
    prog.result = &r;
    prog.config = adgap_fuzz::seed_config();
    r.batches_per_epoch = 2;
    prog.rng_state = state_of(rng);
    adgap::save_checkpoint(out + "/checkpoint-small-fresh.safetensors", r.net, r.meta, opt, prog);

    // One update on a batch of 3 random images: (3, 1, 8, 8) -> (3, 3) log-probabilities.
    const int64_t n = 3, s = r.meta.input_size;
    const at::Tensor x = at::rand({n, 1, s, s});
    const at::Tensor y = at::randint(r.meta.num_classes, {n}, at::kLong);
    opt.zero_grad();
    const at::Tensor loss = at::nll_loss(r.net->forward(x), y);
    loss.backward();
    opt.step();
    r.batch_losses = {loss.item<float>()};
    adgap::EpochStats e;
    e.epoch = 1;
    e.mean_loss = loss.item<double>();
    e.train_accuracy = 1.0 / 3;
    e.seconds = 0.01;
    e.images_per_second = 300;
    r.epochs = {e};
    prog.epochs_done = 1;
    prog.step = 1;
    rng.discard(n);
    prog.rng_state = state_of(rng);
    adgap::save_checkpoint(out + "/checkpoint-small.safetensors", r.net, r.meta, opt, prog);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
