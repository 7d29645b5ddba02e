// The model file: trained weights plus the metadata later commands need (architecture,
// dataset, class count, input scaling), so that `eval`, `weights`, `heatmap` ... need no flags
// repeated from training. Stored as a LibTorch archive; written atomically.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "adgap/model/lenet.h"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace adgap {

struct ModelMeta {
  std::string arch = "lenet-table1";       // paper Table 1, or "lenet-wide": its layout with
  LeNetWidths widths{};                    //   these widths (readers only)
  std::string dataset = "mnist";           // what it was trained on
  int64_t num_classes = 10;                // output classes
  int64_t in_channels = 1;                 // grayscale
  int64_t input_size = 28;                 // training images are input_size^2
  double input_scale = 1.0 / 255.0;        // network input = pixel * input_scale + input_offset
  double input_offset = 0.0;               //   (paper: pixels / 255, no mean subtraction)
  std::string polarity = "light-on-dark";  // MNIST strokes are bright on a dark background
  int64_t epochs = 0;                      // epochs trained
  uint64_t seed = 0;                       // training seed

  nlohmann::json to_json() const;
  static ModelMeta from_json(const nlohmann::json& j, const std::string& source);
  LeNetOptions net_options() const { return {in_channels, num_classes, input_size, widths}; }
};

struct LoadedModel {
  LeNet net{nullptr};
  ModelMeta meta;
};

// Writes weights and metadata to `path` atomically.
void save_model(const std::string& path, LeNet& net, const ModelMeta& meta);
// Reads a model file written by save_model (or a training checkpoint); throws std::runtime_error
// naming the file when it is missing, not a model, or of an unknown architecture.
LoadedModel load_model(const std::string& path);

// Archive helpers shared with checkpoints.
void write_meta(torch::serialize::OutputArchive& ar, const ModelMeta& meta);
ModelMeta read_meta(torch::serialize::InputArchive& ar, const std::string& source);

}  // namespace adgap
