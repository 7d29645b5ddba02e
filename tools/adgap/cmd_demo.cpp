// adgap demo: the main job on defaults - train (or resume / reuse), evaluate, figures.
#include <iostream>

#include "adgap/eval/evaluate.h"
#include "adgap/io/atomic_file.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_demo(int argc, char** argv) {
  TrainConfig cfg;
  cfg.out_dir = "runs/demo";
  cfg.resume = true;  // a finished model is reused, an interrupted run continues
  std::string data_dir = kDefaultDataDir;
  int64_t threads = 0, seed = 0;
  bool fresh = false;
  Args args("demo",
            "Run the whole pipeline on defaults: train the paper's network on MNIST\n"
            "(reusing a finished model in --out, resuming an interrupted one), evaluate it,\n"
            "and write the figures and reports into --out.");
  args.text("data", &data_dir, "DIR", "directory with the MNIST IDX files");
  args.text("out", &cfg.out_dir, "DIR", "output directory");
  args.integer("epochs", &cfg.epochs, 1, 1000, "training epochs");
  args.integer("seed", &seed, 0, INT64_MAX, "initialisation and shuffling seed");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.flag("fresh", &fresh, "retrain from scratch even if --out holds a model");
  if (!args.parse(argc, argv, 2)) return 0;
  cfg.seed = static_cast<uint64_t>(seed);
  cfg.resume = !fresh;

  std::cout << "== 1/3 data\n";
  const Splits data = load_splits(data_dir, /*limit_train=*/0);
  std::cout << "== 2/3 training (paper Table 1 network, Adam, batch 300)\n";
  TrainResult r = run_training(data, cfg, threads);
  std::cout << "== 3/3 evaluation on the test set\n";
  const EvalResult ev = evaluate(r.net, data.test);
  std::cout << ev.to_text();
  atomic_write_text(cfg.out_dir + "/eval.json", ev.to_json().dump(2) + "\n");
  std::printf("\ndemo done: test accuracy %.2f %%\n", 100 * ev.accuracy);
  std::cout << "  model        " << model_path(cfg.out_dir) << "\n"
            << "  loss curve   " << loss_png_path(cfg.out_dir)
            << " (per batch: " << loss_csv_path(cfg.out_dir) << ")\n"
            << "  evaluation   " << cfg.out_dir << "/eval.json\n";
  return 0;
}

}  // namespace adgap::cli
