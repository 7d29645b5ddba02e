// What a person reads about a training run, written after every epoch (pass
// write_training_report as train_model's EpochCallback): train.json (settings and per-epoch
// statistics), loss.csv (every update's loss) and loss.png (the paper's Figure 1).
#pragma once

#include <string>

#include "adgap/train/trainer.h"

namespace adgap {

std::string train_json_path(const std::string& out_dir);
std::string loss_csv_path(const std::string& out_dir);
std::string loss_png_path(const std::string& out_dir);

// Writes the three files into cfg.out_dir, each atomically.
void write_training_report(const TrainConfig& cfg, const TrainResult& r);

}  // namespace adgap
