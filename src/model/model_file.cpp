#include "adgap/model/model_file.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "adgap/io/atomic_file.h"
#include "adgap/io/checksum.h"
#include "adgap/model/archive.h"
#include "adgap/util/json_int.h"

namespace adgap {

namespace {
constexpr int64_t kMaxModelParameters = int64_t{64} << 20;  // 256 MiB of float weights
}  // namespace

nlohmann::json ModelMeta::to_json() const {
  nlohmann::json j = {{"arch", arch},
          {"dataset", dataset},
          {"num_classes", num_classes},
          {"in_channels", in_channels},
          {"input_size", input_size},
          {"input_scale", input_scale},
          {"input_offset", input_offset},
          {"polarity", polarity},
          {"epochs", epochs},
          {"seed", seed}};
  if (arch != "lenet-table1") j["widths"] = {widths.conv1, widths.conv2, widths.fc1, widths.fc2};
  return j;
}

ModelMeta ModelMeta::from_json(const nlohmann::json& j, const std::string& source) {
  ModelMeta m;
  try {
    m.arch = j.at("arch").get<std::string>();
    m.dataset = j.at("dataset").get<std::string>();
    m.num_classes = json_int(j.at("num_classes"));
    m.in_channels = json_int(j.at("in_channels"));
    m.input_size = json_int(j.at("input_size"));
    m.input_scale = j.at("input_scale").get<double>();
    m.input_offset = j.at("input_offset").get<double>();
    m.polarity = j.at("polarity").get<std::string>();
    m.epochs = json_int(j.at("epochs"), 0);
    m.seed = json_uint64(j.at("seed"));
    if (m.arch == "lenet-wide") {
      const auto w = json_ints(j.at("widths"));
      if (w.size() != 4) throw std::runtime_error(source + ": 'widths' needs 4 numbers");
      m.widths = {w[0], w[1], w[2], w[3]};
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source + ": bad model metadata (" + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::runtime_error(source + ": bad model metadata (" + e.what() + ")");
  }
  if (m.arch != "lenet-table1" && m.arch != "lenet-wide") {
    throw std::runtime_error(source + ": unknown architecture '" + m.arch + "'");
  }
  const LeNetWidths& w = m.widths;
  if (w.conv1 < 1 || w.conv2 < 1 || w.fc1 < 1 || w.fc2 < 1 || w.conv1 > 1024 || w.conv2 > 1024 ||
      w.fc1 > 8192 || w.fc2 > 8192 || m.num_classes < 2 || m.num_classes > 256 ||
      m.in_channels < 1 || m.in_channels > 4 || m.input_size < 4 || m.input_size > 1024 ||
      m.input_size % 4 != 0) {
    throw std::runtime_error(source + ": inconsistent model metadata " + m.to_json().dump());
  }
  // The network is built before its weights are read: metadata must not declare gigabytes.
  const int64_t side = m.input_size / 4;
  const int64_t params = m.in_channels * w.conv1 * 25 + w.conv1 * w.conv2 * 25 +
                         w.conv2 * side * side * w.fc1 + w.fc1 * w.fc2 + w.fc2 * m.num_classes;
  if (params > kMaxModelParameters) {
    throw std::runtime_error(source + ": metadata declares a network of about " +
                             std::to_string(params) + " parameters, over the limit of " +
                             std::to_string(kMaxModelParameters));
  }
  return m;
}

void write_meta(torch::serialize::OutputArchive& ar, const ModelMeta& meta) {
  ar.write("meta_json", c10::IValue(meta.to_json().dump()));
}

ModelMeta read_meta(torch::serialize::InputArchive& ar, const std::string& source) {
  c10::IValue v;
  try {
    ar.read("meta_json", v);
  } catch (const c10::Error&) {
    throw std::runtime_error(source + ": not an adgap model file (no metadata)");
  }
  if (!v.isString()) throw std::runtime_error(source + ": metadata is not a string");
  nlohmann::json j = nlohmann::json::parse(v.toStringRef(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::runtime_error(source + ": metadata is not valid JSON");
  return ModelMeta::from_json(j, source);
}

void save_archive(const std::string& path, torch::serialize::OutputArchive& ar) {
  std::ostringstream bytes;
  ar.save_to(bytes);
  atomic_write_text(path, seal(std::move(bytes).str()));
}

void load_archive(const std::string& path, torch::serialize::InputArchive& ar) {
  const std::string payload = read_sealed_file(path, kMaxArchiveBytes);
  try {
    ar.load_from(payload.data(), payload.size());
  } catch (const c10::Error&) {
    throw std::runtime_error(path + ": not a readable model file (corrupt or wrong format)");
  }
}

void save_model(const std::string& path, LeNet& net, const ModelMeta& meta) {
  torch::serialize::OutputArchive ar;
  torch::serialize::OutputArchive weights;
  net->save(weights);
  ar.write("model", weights);
  write_meta(ar, meta);
  save_archive(path, ar);
}

LoadedModel load_model(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(path + ": model file not found");
  }
  torch::serialize::InputArchive ar;
  load_archive(path, ar);
  LoadedModel m;
  m.meta = read_meta(ar, path);
  m.net = LeNet(m.meta.net_options());
  try {
    torch::serialize::InputArchive weights;
    ar.read("model", weights);
    m.net->load(weights);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": weights do not match the metadata (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
  m.net->eval();
  return m;
}

}  // namespace adgap
