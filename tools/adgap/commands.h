// The subcommands of the `adgap` CLI. Each parses its own options (argv[2..]) and returns the
// process exit code; errors are thrown and reported once by main.
#pragma once

#include <string>

#include "adgap/data/dataset.h"
#include "adgap/model/model_file.h"
#include "adgap/train/trainer.h"

namespace adgap::cli {

int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_weights(int argc, char** argv);
int cmd_heatmap(int argc, char** argv);
int cmd_detect(int argc, char** argv);
int cmd_eval_scenes(int argc, char** argv);
int cmd_eval_v2(int argc, char** argv);
int cmd_scenes(int argc, char** argv);
int cmd_read_cells(int argc, char** argv);
int cmd_bench_loc(int argc, char** argv);
int cmd_train_reader(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_convert(int argc, char** argv);

// Shared by the commands.
inline constexpr const char* kDefaultDataDir =
    "data/mnist";  // where scripts/fetch_mnist.sh puts it

// Loads the training and test splits of `dir`, the test labels checked against the training
// class count, and prints a one-line summary.
struct Splits {
  Dataset train, test;
};
// `classes`: the class count (0: from the training labels, see load_split).
Splits load_splits(const std::string& dir, int64_t limit_train, int64_t classes = 0);

// Throws UsageError unless `split` is "train" or "test" (call before any work).
void check_split(const std::string& split);

// Loads split "train" or "test" of `data_dir` for model `m` (read from `model_file`): labels
// checked against its classes, images against its input size.
Dataset load_split_for_model(const std::string& data_dir, const std::string& split,
                             const LoadedModel& m, const std::string& model_file);

// Trains with `cfg`, printing the thread setup and a closing summary; returns the result.
TrainResult run_training(const Splits& data, const TrainConfig& cfg, int64_t threads);

}  // namespace adgap::cli
