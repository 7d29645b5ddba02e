// adgap weights: filter importance (paper Eq. 1), globally and per class.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "adgap/importance/importance.h"
#include "adgap/methods/cam.h"
#include "adgap/util/threads.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_weights(int argc, char** argv) {
  std::string model_file = "runs/demo/model.safetensors", data_dir = kDefaultDataDir, split = "train", out;
  int64_t threads = 0, limit = 0;
  bool cam = false;
  Args args("weights",
            "Measure each final filter's importance (paper Eq. 1): the rise in NLL loss and in\n"
            "0/1 error when its map is zeroed before the classifier head, over a data split,\n"
            "globally and per class. Sign: E_i - e (rise), as the reference implementation.");
  args.text("model", &model_file, "FILE", "trained model");
  args.text("data", &data_dir, "DIR", "directory with the IDX files");
  args.text("split", &split, "NAME", "train (as the reference) or test");
  args.integer("limit", &limit, 0, INT64_MAX, "use the first N images only, 0 = all");
  args.text("out", &out, "FILE", "JSON output (default: weights.json beside the model)");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  args.flag("cam", &cam,
            "also train the CAM baseline's classifier on the pooled maps (`--method cam` needs it)");
  if (!args.parse(argc, argv, 2)) return 0;
  check_split(split);
  configure_threads(static_cast<int>(threads));
  LoadedModel m = load_model(model_file);
  const Dataset data = head(load_split_for_model(data_dir, split, m, model_file), limit);
  FilterImportance imp = compute_importance(m.net, data);
  if (cam) train_cam(m.net, data, imp);
  if (out.empty())
    out = (std::filesystem::path(model_file).parent_path() / "weights.json").string();
  save_importance(out, imp);
  std::printf("%s: %lld images, baseline NLL %.4f, error %.2f %%\n", data.name.c_str(),
              static_cast<long long>(imp.samples), imp.baseline_loss, 100 * imp.baseline_error);
  if (cam) {
    std::printf("CAM classifier on pooled maps: %.2f %% accuracy on the same images\n",
                100 * imp.cam_accuracy);
  }
  std::printf("filter  loss rise  error rise\n");
  for (int64_t i = 0; i < imp.channels; ++i) {
    std::printf("%6lld  %9.4f  %8.2f %%\n", static_cast<long long>(i), imp.loss_rise[i],
                100 * imp.error_rise[i]);
  }
  std::cout << "wrote " << out << "\n";
  return 0;
}

}  // namespace adgap::cli
