#include "adgap/model/model_file.h"

#include <torch/serialize/input-archive.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <vector>

#include "adgap/io/checksum.h"
#include "adgap/io/limits.h"
#include "adgap/util/json_int.h"

#ifndef ADGAP_VERSION
#error "ADGAP_VERSION is set by CMakeLists.txt"
#endif

namespace adgap {

namespace {
constexpr int64_t kMaxModelParameters = int64_t{64} << 20;  // 256 MiB of float weights

// Metadata entries whose values are JSON numbers (the rest are text).
const char* const kNumberKeys[] = {"num_classes", "in_channels", "input_size", "input_scale",
                                   "input_offset", "epochs", "seed"};
const char* const kTextKeys[] = {"arch", "dataset", "polarity"};

std::string widths_text(const LeNetWidths& w) {
  return std::to_string(w.conv1) + "," + std::to_string(w.conv2) + "," + std::to_string(w.fc1) +
         "," + std::to_string(w.fc2);
}
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
  if (!recipe.empty()) j["recipe"] = recipe;
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
    if (j.contains("recipe")) m.recipe = j.at("recipe").get<std::string>();
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
      m.input_size % 4 != 0 || !std::isfinite(m.input_scale) || !std::isfinite(m.input_offset)) {
    throw std::runtime_error(source + ": inconsistent model metadata " + m.to_json().dump());
  }
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

std::map<std::string, std::string> ModelMeta::to_metadata(const std::string& format) const {
  const nlohmann::json j = to_json();
  std::map<std::string, std::string> m;
  m["format"] = format;
  for (const char* k : kTextKeys) m[k] = j.at(k).get<std::string>();
  for (const char* k : kNumberKeys) m[k] = j.at(k).dump();
  m["widths"] = widths_text(widths);
  m["recipe"] = recipe;
  m["adgap_version"] = ADGAP_VERSION;
  return m;
}

ModelMeta ModelMeta::from_metadata(const std::map<std::string, std::string>& m,
                                   const std::string& format, const std::string& source) {
  const auto get = [&](const char* key) -> const std::string& {
    const auto it = m.find(key);
    if (it == m.end()) throw std::runtime_error(source + ": no metadata '" + key + "'");
    return it->second;
  };
  if (get("format") != format) {
    throw std::runtime_error(source + ": holds '" + get("format").substr(0, 40) + "', not '" +
                             format + "'" +
                             (format == kModelFormat ? " (a model file is needed)"
                              : get("format") == kModelFormat
                                  ? " (it is a model file already)"
                                  : ""));
  }
  nlohmann::json j;
  for (const char* k : kTextKeys) j[k] = get(k);
  for (const char* k : kNumberKeys) {
    const std::string& text = get(k);
    if (text.empty() || text.size() > 32 ||
        text.find_first_not_of("0123456789+-.eE") != std::string::npos) {
      throw std::runtime_error(source + ": metadata '" + k + "' is not a number");
    }
    const nlohmann::json v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded() || !v.is_number()) {
      throw std::runtime_error(source + ": metadata '" + k + "' is not a number");
    }
    j[k] = v;
  }
  j["recipe"] = get("recipe");
  // widths: four integers, "C1,C2,F1,F2"
  const std::string& w = get("widths");
  std::vector<int64_t> v;
  size_t start = 0;
  while (v.size() < 5) {
    const size_t comma = w.find(',', start);
    const std::string item = w.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.size() > 5 || item.find_first_not_of("0123456789") != std::string::npos) {
      throw std::runtime_error(source + ": metadata 'widths' is not four integers");
    }
    v.push_back(std::stoll(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (v.size() != 4) throw std::runtime_error(source + ": metadata 'widths' is not four integers");
  if (j["arch"] == "lenet-table1" && !LeNetWidths{v[0], v[1], v[2], v[3]}.is_table1()) {
    throw std::runtime_error(source + ": lenet-table1 with widths " + w);
  }
  j["widths"] = v;
  return from_json(j, source);
}

NamedTensor named_tensor(const std::string& name, const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous().to(at::kFloat);
  NamedTensor n;
  n.name = name;
  n.shape = c.sizes().vec();
  n.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return n;
}

void copy_tensor_into(at::Tensor& dst, const NamedTensor& t, const std::string& source) {
  if (dst.sizes().vec() != t.shape) {
    throw std::runtime_error(source + ": tensor '" + t.name.substr(0, 80) + "' has shape " +
                             nlohmann::json(t.shape).dump() + ", the network's " +
                             nlohmann::json(dst.sizes().vec()).dump());
  }
  std::memcpy(dst.data_ptr<float>(), t.values.data(), t.values.size() * sizeof(float));
}

std::vector<NamedTensor> network_tensors(LeNet& net, const std::string& prefix) {
  std::vector<NamedTensor> out;
  for (const auto& p : net->named_parameters()) out.push_back(named_tensor(prefix + p.key(), p.value()));
  return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> expected_tensors(const LeNetOptions& o) {
  const LeNetWidths& w = o.widths;
  const int64_t s = o.input_size / 4;
  return {{"conv1.weight", {w.conv1, o.in_channels, 5, 5}},
          {"conv1.bias", {w.conv1}},
          {"conv2.weight", {w.conv2, w.conv1, 5, 5}},
          {"conv2.bias", {w.conv2}},
          {"fc1.weight", {w.fc1, w.conv2 * s * s}},
          {"fc1.bias", {w.fc1}},
          {"fc2.weight", {w.fc2, w.fc1}},
          {"fc2.bias", {w.fc2}},
          {"fc3.weight", {o.num_classes, w.fc2}},
          {"fc3.bias", {o.num_classes}}};
}

LeNet network_from(const SafetensorsFile& f, const ModelMeta& meta, const std::string& prefix,
                   const std::vector<std::string>& others, const std::string& source) {
  const auto expected = expected_tensors(meta.net_options());
  std::set<std::string> allowed(others.begin(), others.end());
  for (const auto& [name, shape] : expected) {
    allowed.insert(prefix + name);
    const NamedTensor* t = nullptr;
    for (const NamedTensor& c : f.tensors) {
      if (c.name == prefix + name) t = &c;
    }
    if (!t) throw std::runtime_error(source + ": no tensor '" + prefix + name + "'");
    if (t->shape != shape) {
      throw std::runtime_error(source + ": tensor '" + prefix + name + "' has shape " +
                               nlohmann::json(t->shape).dump() + ", the metadata's network " +
                               nlohmann::json(shape).dump());
    }
  }
  for (const NamedTensor& t : f.tensors) {
    if (!allowed.count(t.name)) {
      throw std::runtime_error(source + ": unexpected tensor '" + t.name.substr(0, 80) + "'");
    }
  }
  // Every shape matched, so the network is no larger than the file's data.
  LeNet net(meta.net_options());
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    copy_tensor_into(p.value(), f.at(prefix + p.key(), source), source);
  }
  return net;
}

void save_model(const std::string& path, LeNet& net, const ModelMeta& meta) {
  SafetensorsFile f;
  f.metadata = meta.to_metadata(kModelFormat);
  f.tensors = network_tensors(net);
  write_safetensors_file(path, f);
}

void require_safetensors(const std::string& bytes, const std::string& source) {
  if (looks_like_safetensors(bytes)) return;
  const bool zip = bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
  const bool sealed = bytes.size() >= kSealBytes &&
                      bytes.compare(bytes.size() - kSealBytes, 8, "ADGAPSUM") == 0;
  if (zip || sealed) {
    throw SafetensorsError(source + ": an adgap file of the old LibTorch format (.pt); make a "
                           "safetensors file of a model with `adgap convert " + source +
                           " NEW.safetensors` (or retrain)");
  }
  throw SafetensorsError(source + ": not a safetensors file");
}

LoadedModel load_model_bytes(const std::string& bytes, const std::string& source) {
  require_safetensors(bytes, source);
  const SafetensorsFile f = parse_safetensors(bytes, source);
  LoadedModel m;
  m.meta = ModelMeta::from_metadata(f.metadata, kModelFormat, source);
  m.net = network_from(f, m.meta, "", {}, source);
  m.net->eval();
  return m;
}

LoadedModel load_model(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(path + ": model file not found");
  }
  return load_model_bytes(read_whole_file(path, kMaxModelFileBytes, "model file"), path);
}

LoadedModel load_legacy_model(const std::string& path) {
  const std::string bytes = read_whole_file(path, kMaxModelFileBytes, "model file");
  const std::string payload(unseal(bytes, path));
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(payload.data(), payload.size());
  } catch (const c10::Error&) {
    throw std::runtime_error(path + ": not a readable LibTorch archive");
  }
  c10::IValue v;
  try {
    ar.read("meta_json", v);
  } catch (const c10::Error&) {
    throw std::runtime_error(path + ": not an adgap model file (no metadata)");
  }
  if (!v.isString()) throw std::runtime_error(path + ": metadata is not a string");
  const nlohmann::json j = nlohmann::json::parse(v.toStringRef(), nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(path + ": metadata is not valid JSON");
  LoadedModel m;
  m.meta = ModelMeta::from_json(j, path);
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
