// The model file: trained weights plus the metadata later commands need (architecture,
// dataset, class count, input scaling), so that `eval`, `weights`, `heatmap` ... need no flags
// repeated from training. A safetensors file (io/safetensors.h), written atomically:
//
//   tensors     conv1.weight (conv1, in_channels, 5, 5), conv1.bias (conv1),
//               conv2.weight (conv2, conv1, 5, 5), conv2.bias (conv2),
//               fc1.weight (fc1, conv2 * (input_size/4)^2), fc1.bias (fc1),
//               fc2.weight (fc2, fc1), fc2.bias (fc2), fc3.weight (classes, fc2), fc3.bias
//   metadata    format "adgap-model", arch, widths "C1,C2,F1,F2", dataset, num_classes,
//               in_channels, input_size, input_scale, input_offset, polarity, epochs, seed,
//               recipe (the training settings, JSON), adgap_version; numbers as JSON text
//
// Nothing else may be in the file: a tensor missing, extra or of another shape is refused
// before the network is built, so the network's size is bounded by the file's.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "adgap/io/safetensors.h"
#include "adgap/model/lenet.h"

namespace adgap {

// Model and checkpoint files larger than this are refused before they are read.
inline constexpr uint64_t kMaxModelFileBytes = uint64_t{2} << 30;  // 2 GiB

inline constexpr const char* kModelFormat = "adgap-model";
inline constexpr const char* kCheckpointFormat = "adgap-checkpoint";
inline constexpr const char* kModelExtension = ".safetensors";

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
  std::string recipe;                      // the training settings (JSON text), "" unknown

  nlohmann::json to_json() const;
  static ModelMeta from_json(const nlohmann::json& j, const std::string& source);
  LeNetOptions net_options() const { return {in_channels, num_classes, input_size, widths}; }

  // As safetensors metadata (strings), with "format" = `format`; and back, checking the format.
  std::map<std::string, std::string> to_metadata(const std::string& format) const;
  static ModelMeta from_metadata(const std::map<std::string, std::string>& m,
                                 const std::string& format, const std::string& source);
};

struct LoadedModel {
  LeNet net{nullptr};
  ModelMeta meta;
};

// Writes weights and metadata to `path` atomically.
void save_model(const std::string& path, LeNet& net, const ModelMeta& meta);
// Reads a model file written by save_model; throws std::runtime_error naming the file when it
// is missing, not a model, damaged (SafetensorsError), of an unknown architecture, or an
// adgap model of the old LibTorch format (with the `adgap convert` line to make a new one).
LoadedModel load_model(const std::string& path);
// The same from the file's bytes (`source` names it in errors).
LoadedModel load_model_bytes(const std::string& bytes, const std::string& source);

// A tensor's values as a float32 safetensors tensor called `name`.
NamedTensor named_tensor(const std::string& name, const at::Tensor& t);
// Copies `t`'s values into `dst` (float32, contiguous) after checking that the shapes agree;
// throws std::runtime_error naming `source` and the tensor when they do not.
void copy_tensor_into(at::Tensor& dst, const NamedTensor& t, const std::string& source);
// The network's parameters as safetensors tensors named `prefix` + LibTorch's names.
std::vector<NamedTensor> network_tensors(LeNet& net, const std::string& prefix = "");
// The names and shapes a network of `o` has, in network_tensors' order.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_tensors(const LeNetOptions& o);
// Builds the network `meta` declares and copies the tensors named `prefix` + parameter name
// into it, after checking the file holds exactly those shapes (and nothing outside
// `prefix` + names, `others` aside). Throws std::runtime_error naming `source`.
LeNet network_from(const SafetensorsFile& f, const ModelMeta& meta, const std::string& prefix,
                   const std::vector<std::string>& others, const std::string& source);

// Refuses `bytes` that are not safetensors with one line: an old LibTorch archive (.pt) gets
// the command that converts it.
void require_safetensors(const std::string& bytes, const std::string& source);

// Reads a model file of the old LibTorch format (trusted input: LibTorch's parser is not
// hardened) for `adgap convert`.
LoadedModel load_legacy_model(const std::string& path);

}  // namespace adgap
