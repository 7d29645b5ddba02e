#include "adgap/train/trainer.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>

#include "adgap/eval/evaluate.h"
#include "adgap/io/atomic_file.h"
#include "adgap/train/checkpoint.h"
#include "adgap/train/train_step.h"
#include "adgap/util/json_int.h"
#include "adgap/util/progress.h"
#include "adgap/util/seed.h"
#include "adgap/util/threads.h"

namespace adgap {

std::string checkpoint_path(const std::string& d) { return d + "/checkpoint" + kModelExtension; }
std::string model_path(const std::string& d) { return d + "/model" + kModelExtension; }

nlohmann::json epochs_to_json(const std::vector<EpochStats>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const EpochStats& e : v) {
    a.push_back({{"epoch", e.epoch},
                 {"mean_loss", e.mean_loss},
                 {"train_accuracy", e.train_accuracy},
                 {"test_accuracy", e.test_accuracy},
                 {"seconds", e.seconds},
                 {"images_per_second", e.images_per_second}});
  }
  return a;
}

std::vector<EpochStats> epochs_from_json(const nlohmann::json& a) {
  std::vector<EpochStats> v;
  for (const auto& j : a) {
    EpochStats e;
    e.epoch = json_int(j.at("epoch"), 0);
    e.mean_loss = j.at("mean_loss").get<double>();
    e.train_accuracy = j.at("train_accuracy").get<double>();
    e.test_accuracy = j.at("test_accuracy").get<double>();
    e.seconds = j.at("seconds").get<double>();
    e.images_per_second = j.at("images_per_second").get<double>();
    v.push_back(e);
  }
  return v;
}

namespace {

// Fisher-Yates with our own index arithmetic, so the order depends only on the generator
// (std::shuffle's algorithm is left to the standard library).
std::vector<int64_t> permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

std::string epoch_line(const EpochStats& e, int64_t epochs) {
  char buf[256];
  int len = std::snprintf(buf, sizeof buf, "epoch %2lld/%lld  loss %.4f  train-acc %6.2f %%",
                          static_cast<long long>(e.epoch), static_cast<long long>(epochs),
                          e.mean_loss, 100 * e.train_accuracy);
  if (e.test_accuracy >= 0) {
    len += std::snprintf(buf + len, sizeof buf - len, "  test-acc %6.2f %%", 100 * e.test_accuracy);
  }
  std::snprintf(buf + len, sizeof buf - len, "  %6.1f s  %7.0f img/s", e.seconds,
                e.images_per_second);
  return buf;
}

}  // namespace

TrainResult train_model(const Dataset& train, const Dataset* test, const TrainConfig& cfg,
                        std::ostream* log, const EpochCallback& on_epoch) {
  TORCH_CHECK(cfg.epochs > 0 && cfg.batch_size > 0 && cfg.lr > 0 && cfg.lr_decay >= 0,
              "train_model: invalid settings");
  TORCH_CHECK(train.images.size(2) == train.images.size(3), "train_model: images must be square");
  const int64_t n = train.size();
  TrainResult r;
  r.batches_per_epoch = (n + cfg.batch_size - 1) / cfg.batch_size;
  r.meta.dataset = train.name.substr(0, train.name.find('/'));
  r.meta.num_classes = train.num_classes;
  r.meta.in_channels = train.images.size(1);
  r.meta.input_size = train.images.size(2);
  r.meta.seed = cfg.seed;
  r.meta.widths = cfg.widths;
  if (!cfg.widths.is_table1()) r.meta.arch = "lenet-wide";

  {
    const SeedGuard seed(cfg.seed);  // the weights' initialisation
    r.net = LeNet(r.meta.net_options());
  }
  torch::optim::Adam opt(r.net->parameters(), torch::optim::AdamOptions(cfg.lr));
  std::mt19937_64 rng(cfg.seed);

  TrainProgress prog;
  prog.result = &r;
  prog.config = {{"dataset", r.meta.dataset},    {"train_size", n},
                 {"batch_size", cfg.batch_size}, {"lr", cfg.lr},
                 {"lr_decay", cfg.lr_decay},     {"seed", cfg.seed}};
  // The recipe in the files: these settings and the widths and epochs.
  nlohmann::json recipe = prog.config;
  recipe["epochs"] = cfg.epochs;
  recipe["widths"] = {cfg.widths.conv1, cfg.widths.conv2, cfg.widths.fc1, cfg.widths.fc2};
  r.meta.recipe = recipe.dump();
  const std::string ckpt = checkpoint_path(cfg.out_dir);
  // A run killed while writing leaves its temporary file behind; the next run tidies up.
  if (std::filesystem::is_directory(cfg.out_dir)) remove_stale_temporaries(cfg.out_dir);
  if (cfg.resume && std::filesystem::exists(ckpt)) {
    load_checkpoint(ckpt, r.net, r.meta, opt, prog);
    r.meta.recipe = recipe.dump();  // this run's (its epochs may be more than the first's)
    std::istringstream(prog.rng_state) >> rng;
    if (log) *log << "resumed from " << ckpt << " after epoch " << prog.epochs_done << "\n";
  }

  // adgap's kernels for the steps where they apply (train_step.h).
  std::optional<KernelTrainStep> own;
  if (!cfg.libtorch_kernels && own_kernels_enabled() && r.meta.in_channels == 1 &&
      KernelTrainStep::supports(r.net, r.meta.input_size, r.meta.input_size)) {
    own.emplace();
  }
  int64_t epochs_this_call = 0;
  for (int64_t epoch = prog.epochs_done; epoch < cfg.epochs; ++epoch) {
    if (cfg.stop_after > 0 && epochs_this_call == cfg.stop_after) return r;
    r.net->train();
    const std::vector<int64_t> order = permutation(n, rng);
    const at::Tensor perm = at::from_blob(const_cast<int64_t*>(order.data()), {n}, at::kLong);
    Progress bar(log, r.batches_per_epoch, "epoch " + std::to_string(epoch + 1) + " batches",
                 cfg.progress, /*report_end=*/false);  // the epoch line follows
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t right = 0;
    for (int64_t b = 0; b < r.batches_per_epoch; ++b) {
      const int64_t start = b * cfg.batch_size, len = std::min(cfg.batch_size, n - start);
      const at::Tensor idx = perm.narrow(0, start, len);
      const at::Tensor x = to_input(train.images.index_select(0, idx));  // (B, 1, 28, 28)
      const at::Tensor y = train.labels.index_select(0, idx);            // (B)
      set_lr(opt, cfg.lr / (1.0 + static_cast<double>(prog.step) * cfg.lr_decay));
      opt.zero_grad();
      float l = 0;
      if (own) {
        const StepResult s = own->gradients(r.net, x, y);
        l = s.loss;
        right += s.correct;
      } else {
        const at::Tensor logp = r.net->forward(x);  // (B, C)
        const at::Tensor loss = at::nll_loss(logp, y);
        loss.backward();
        l = loss.item<float>();
        right += logp.argmax(1).eq(y).sum().item<int64_t>();
      }
      if (!std::isfinite(l)) {
        // Stop before the update: the last checkpoint on disk stays the last good state.
        throw TrainingDiverged(
            std::string("the training loss is ") + (std::isnan(l) ? "NaN" : "infinite") +
            " at epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) +
            " (update " + std::to_string(prog.step + 1) + "): training stopped; " +
            (prog.epochs_done > 0 ? ckpt + " (after epoch " + std::to_string(prog.epochs_done) +
                                        ") is the last good state"
                                  : std::string("no checkpoint was written")) +
            " (a smaller --lr may help)");
      }
      opt.step();
      ++prog.step;
      r.batch_losses.push_back(l);
      loss_sum += l;
      char note[48];
      std::snprintf(note, sizeof note, "loss %.4f", l);
      bar.update(b + 1, note);
    }
    bar.finish();
    EpochStats e;
    e.epoch = epoch + 1;
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.images_per_second = n / std::max(e.seconds, 1e-9);
    e.mean_loss = loss_sum / r.batches_per_epoch;
    e.train_accuracy = static_cast<double>(right) / n;
    if (test) e.test_accuracy = evaluate(r.net, *test).accuracy;
    r.epochs.push_back(e);
    r.meta.epochs = e.epoch;
    prog.epochs_done = e.epoch;
    std::ostringstream rs;
    rs << rng;
    prog.rng_state = rs.str();
    save_checkpoint(ckpt, r.net, r.meta, opt, prog);
    if (on_epoch) on_epoch(cfg, r);
    if (log && cfg.progress) *log << epoch_line(e, cfg.epochs) << std::endl;
    ++epochs_this_call;
  }
  r.net->eval();
  save_model(model_path(cfg.out_dir), r.net, r.meta);
  r.finished = true;
  if (on_epoch && !r.batch_losses.empty()) on_epoch(cfg, r);
  return r;
}

}  // namespace adgap
