// adgap train: the paper's training recipe, with checkpoints and resume.
#include <iostream>

#include "adgap/eval/evaluate.h"
#include "adgap/io/atomic_file.h"
#include "adgap/report/training_report.h"
#include "adgap/util/threads.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

Splits load_splits(const std::string& dir, int64_t limit_train, int64_t classes) {
  Splits s;
  s.train = head(load_split(dir, "train", classes), limit_train);
  s.test = load_split(dir, "test", s.train.num_classes);
  if (s.test.images.sizes().slice(1) != s.train.images.sizes().slice(1)) {
    throw std::runtime_error(find_idx_file(dir, "test", "images-idx3-ubyte") + ": test images are " +
                             std::to_string(s.test.images.size(2)) +
                             "x" + std::to_string(s.test.images.size(3)) + " but training images " +
                             std::to_string(s.train.images.size(2)) + "x" +
                             std::to_string(s.train.images.size(3)));
  }
  std::cout << "data: " << dir << ": " << s.train.size() << " training and " << s.test.size()
            << " test images of " << s.train.images.size(2) << "x" << s.train.images.size(3) << ", "
            << s.train.num_classes << " classes\n";
  return s;
}

TrainResult run_training(const Splits& data, const TrainConfig& cfg, int64_t threads) {
  std::cout << "threads: " << configure_threads(static_cast<int>(threads)) << "\n";
  std::cout << "training: " << cfg.epochs << " epochs, batch " << cfg.batch_size << ", Adam lr "
            << cfg.lr << " decay " << cfg.lr_decay << ", seed " << cfg.seed << " -> " << cfg.out_dir
            << std::endl;
  TrainResult r = train_model(data.train, &data.test, cfg, &std::cerr, write_training_report);
  if (!r.finished) {
    std::cout << "stopped after epoch " << r.meta.epochs << " (resume with --resume)\n";
    return r;
  }
  double secs = 0, ips = 0;
  for (const EpochStats& e : r.epochs) {
    secs += e.seconds;
    ips += e.images_per_second;
  }
  if (!r.epochs.empty()) {
    std::printf("mean over %zu epochs: %.1f s per epoch, %.0f images per second\n", r.epochs.size(),
                secs / r.epochs.size(), ips / r.epochs.size());
  }
  std::cout << "wrote " << model_path(cfg.out_dir) << ", " << loss_csv_path(cfg.out_dir) << ", "
            << loss_png_path(cfg.out_dir) << std::endl;
  return r;
}

int cmd_train(int argc, char** argv) {
  TrainConfig cfg;
  std::string data_dir = kDefaultDataDir;
  int64_t threads = 0, limit = 0, seed = 0, classes = 0;
  bool quiet = false;
  Args args("train",
            "Train the paper's Table 1 network (Adam, batch 300, 10 epochs) on an IDX "
            "dataset.\nWrites checkpoint.safetensors after every epoch, then model.safetensors, loss.csv, "
            "loss.png and eval.json into --out.");
  args.text("data", &data_dir, "DIR", "directory with the four (optionally .gz) IDX files");
  args.text("out", &cfg.out_dir, "DIR", "output directory");
  args.integer("epochs", &cfg.epochs, 1, 1000, "passes over the training set");
  args.integer("batch", &cfg.batch_size, 1, 60000, "images per update");
  args.real("lr", &cfg.lr, 1e-8, 1.0, "Adam step size");
  args.real("lr-decay", &cfg.lr_decay, 0.0, 1.0, "Torch7 decay: step size lr / (1 + t * decay)");
  args.integer("seed", &seed, 0, INT64_MAX, "initialisation and shuffling seed");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.integer("classes", &classes, 0, 256,
               "number of classes, 0 = from the labels (then every class up to the largest "
               "label must have images)");
  args.integer("limit", &limit, 0, INT64_MAX, "train on the first N images only, 0 = all");
  args.integer("stop-after", &cfg.stop_after, 0, 1000,
               "stop after N epochs of this call (resume later)");
  args.flag("resume", &cfg.resume, "continue from --out/checkpoint.pt if it exists");
  args.flag("quiet", &quiet, "no per-epoch lines");
  args.flag("libtorch-kernels", &cfg.libtorch_kernels,
            "LibTorch's layers and autograd for every step instead of adgap's kernels (the "
            "reference)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (classes == 1) throw UsageError("--classes: a classifier needs at least 2 classes");
  cfg.seed = static_cast<uint64_t>(seed);
  cfg.progress = !quiet;

  const Splits data = load_splits(data_dir, limit, classes);
  TrainResult r = run_training(data, cfg, threads);
  if (!r.finished) return 0;
  const EvalResult ev = evaluate(r.net, data.test);
  std::cout << "test " << ev.to_text();
  const std::string json_path = cfg.out_dir + "/eval.json";
  atomic_write_text(json_path, ev.to_json().dump(2) + "\n");
  std::cout << "wrote " << json_path << "\n";
  return 0;
}

}  // namespace adgap::cli
