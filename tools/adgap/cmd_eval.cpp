// adgap eval: accuracy overall and per class, and the confusion matrix, of a trained model.
#include <filesystem>
#include <iostream>

#include "adgap/eval/evaluate.h"
#include "adgap/io/atomic_file.h"
#include "adgap/util/threads.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

void check_split(const std::string& split) {
  if (split != "train" && split != "test") {
    throw UsageError("--split: '" + split + "' is neither 'train' nor 'test'");
  }
}

Dataset load_split_for_model(const std::string& data_dir, const std::string& split,
                             const LoadedModel& m, const std::string& model_file) {
  Dataset data = load_split(data_dir, split, m.meta.num_classes);
  if (data.images.size(1) != m.meta.in_channels || data.images.size(2) != m.meta.input_size ||
      data.images.size(3) != m.meta.input_size) {
    throw std::runtime_error(find_idx_file(data_dir, split, "images-idx3-ubyte") + ": images are " +
                             std::to_string(data.images.size(2)) +
                             "x" + std::to_string(data.images.size(3)) + " but " + model_file +
                             " expects " + std::to_string(m.meta.input_size) + "x" +
                             std::to_string(m.meta.input_size));
  }
  return data;
}

int cmd_eval(int argc, char** argv) {
  std::string model_file = "runs/mnist/model.safetensors", data_dir = kDefaultDataDir, split = "test";
  std::string json_path;
  int64_t threads = 0;
  Args args("eval",
            "Evaluate a trained model on an IDX split: accuracy overall and per class,\n"
            "confusion matrix; printed and written as JSON.");
  args.text("model", &model_file, "FILE", "model written by `adgap train`");
  args.text("data", &data_dir, "DIR", "directory with the IDX files");
  args.text("split", &split, "NAME", "train or test");
  args.text("json", &json_path, "FILE",
            "JSON output (default: eval-<split>.json beside the model)");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  if (!args.parse(argc, argv, 2)) return 0;
  check_split(split);
  configure_threads(static_cast<int>(threads));
  LoadedModel m = load_model(model_file);
  const Dataset data = load_split_for_model(data_dir, split, m, model_file);
  const EvalResult ev = evaluate(m.net, data);
  std::cout << model_file << " (" << m.meta.dataset << ", " << m.meta.epochs << " epochs, seed "
            << m.meta.seed << ") on " << data.name << ":\n"
            << ev.to_text();
  if (json_path.empty()) {
    json_path =
        (std::filesystem::path(model_file).parent_path() / ("eval-" + split + ".json")).string();
  }
  nlohmann::json j = ev.to_json();
  j["model"] = model_file;
  j["data"] = data_dir;
  j["split"] = split;
  atomic_write_text(json_path, j.dump(2) + "\n");
  std::cout << "wrote " << json_path << "\n";
  return 0;
}

}  // namespace adgap::cli
