#include "adgap/train/checkpoint.h"

#include <c10/util/string_utils.h>

#include <cstring>
#include <stdexcept>

#include "adgap/io/limits.h"
#include "adgap/io/safetensors.h"
#include "adgap/util/json_int.h"

namespace adgap {

namespace {

constexpr const char* kExpAvg = "adam.exp_avg.";        // + parameter name
constexpr const char* kExpAvgSq = "adam.exp_avg_sq.";   // + parameter name
constexpr const char* kBatchLosses = "batch_losses";    // (batches done)

// Adam keeps its state by the parameter's TensorImpl (torch/optim/optimizer.h).
std::string state_key(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

}  // namespace

void save_checkpoint(const std::string& path, LeNet& net, const ModelMeta& meta,
                     torch::optim::Adam& opt, const TrainProgress& p) {
  SafetensorsFile f;
  f.metadata = meta.to_metadata(kCheckpointFormat);
  f.tensors = network_tensors(net);
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& param : net->named_parameters()) {
    const auto it = opt.state().find(state_key(param.value()));
    if (it == opt.state().end()) continue;  // no update yet
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    TORCH_CHECK(!s.max_exp_avg_sq().defined(), "save_checkpoint: AMSGrad state is not saved");
    steps[param.key()] = s.step();
    f.tensors.push_back(named_tensor(kExpAvg + param.key(), s.exp_avg()));
    f.tensors.push_back(named_tensor(kExpAvgSq + param.key(), s.exp_avg_sq()));
  }
  f.metadata["adam_step"] = steps.dump();
  const std::vector<float>& losses = p.result->batch_losses;
  f.tensors.push_back({kBatchLosses, {static_cast<int64_t>(losses.size())}, losses});
  const nlohmann::json state = {{"epochs_done", p.epochs_done},
                                {"step", p.step},
                                {"rng_state", p.rng_state},
                                {"batches_per_epoch", p.result->batches_per_epoch},
                                {"epochs", epochs_to_json(p.result->epochs)},
                                {"config", p.config}};
  f.metadata["train_state"] = state.dump();
  write_safetensors_file(path, f);
}

namespace {

// A checkpoint file read and checked: its tensors, metadata, Adam's steps and the train state.
struct CheckpointFile {
  SafetensorsFile f;
  ModelMeta meta;
  nlohmann::json steps, state;
  LeNet net{nullptr};  // the weights
};

CheckpointFile read_checkpoint(const std::string& path) {
  CheckpointFile c;
  const std::string bytes = read_whole_file(path, kMaxModelFileBytes, "checkpoint");
  require_safetensors(bytes, path);
  c.f = parse_safetensors(bytes, path);
  const SafetensorsFile& f = c.f;
  c.meta = ModelMeta::from_metadata(f.metadata, kCheckpointFormat, path);
  try {
    // Parsed only when nested as adgap writes them: {name: step} and {..., "epochs": [{...}],
    // "config": {...}} (a value nested deeper would be dumped into a message, recursively).
    const std::string& steps_text = f.meta("adam_step", path);
    const std::string& state_text = f.meta("train_state", path);
    if (json_nesting_depth(steps_text, 0, steps_text.size(), 1) > 1 ||
        json_nesting_depth(state_text, 0, state_text.size(), 3) > 3) {
      throw std::runtime_error("nested deeper than adgap writes it");
    }
    c.steps = nlohmann::json::parse(steps_text);
    c.state = nlohmann::json::parse(state_text);
    if (!c.steps.is_object() || !c.state.is_object()) throw std::runtime_error("not objects");
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": bad checkpoint state (" + e.what() + ")");
  }
  // The file's tensors: the network, Adam's moments of the parameters it names, the losses.
  std::vector<std::string> others = {kBatchLosses};
  for (const auto& [name, step] : c.steps.items()) {
    others.push_back(kExpAvg + name);
    others.push_back(kExpAvgSq + name);
  }
  c.net = network_from(f, c.meta, "", others, path);
  return c;
}

}  // namespace

LoadedModel load_checkpoint_model(const std::string& path) {
  CheckpointFile c = read_checkpoint(path);
  LoadedModel m{c.net, c.meta};
  // The recipe names the epochs the run was asked for; the file holds those it finished.
  try {
    nlohmann::json recipe = nlohmann::json::parse(m.meta.recipe);
    if (recipe.is_object() && recipe.contains("epochs")) {
      recipe["epochs"] = m.meta.epochs;
      m.meta.recipe = recipe.dump();
    }
  } catch (const nlohmann::json::exception&) {
    // a recipe that is not JSON is kept as it is
  }
  m.net->eval();
  return m;
}

void load_checkpoint(const std::string& path, LeNet& net, ModelMeta& meta, torch::optim::Adam& opt,
                     TrainProgress& p) {
  CheckpointFile c = read_checkpoint(path);
  meta = c.meta;
  const SafetensorsFile& f = c.f;
  const nlohmann::json& steps = c.steps;
  const nlohmann::json& state = c.state;
  const LeNet saved = c.net;
  torch::NoGradGuard no_grad;
  const auto saved_params = saved->named_parameters();
  for (auto& param : net->named_parameters()) {
    at::Tensor dst = param.value();
    const at::Tensor& src = saved_params[param.key()];
    if (dst.sizes() != src.sizes()) {
      throw std::runtime_error(path + ": was written for a network of other widths than this run's");
    }
    dst.copy_(src);
  }
  try {
    opt.state().clear();
    for (auto& param : net->named_parameters()) {
      if (!steps.contains(param.key())) continue;
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(json_int(steps.at(param.key()), 0));
      at::Tensor avg = at::zeros_like(param.value()), sq = at::zeros_like(param.value());
      copy_tensor_into(avg, f.at(kExpAvg + param.key(), path), path);
      copy_tensor_into(sq, f.at(kExpAvgSq + param.key(), path), path);
      s->exp_avg(avg);
      s->exp_avg_sq(sq);
      opt.state()[state_key(param.value())] = std::move(s);
    }
    if (!steps.empty() && opt.state().size() != net->parameters().size()) {
      throw std::runtime_error(path + ": Adam's state names parameters this network lacks or "
                               "misses some of its own");
    }
    const NamedTensor& losses = f.at(kBatchLosses, path);
    if (losses.shape.size() != 1) throw std::runtime_error(path + ": batch_losses is not 1-D");
    p.result->batch_losses = losses.values;
    p.epochs_done = json_int(state.at("epochs_done"), 0);
    p.step = json_int(state.at("step"), 0);
    p.rng_state = state.at("rng_state").get<std::string>();
    p.result->batches_per_epoch = json_int(state.at("batches_per_epoch"), 0);
    p.result->epochs = epochs_from_json(state.at("epochs"));
    if (state.at("config") != p.config) {
      throw std::runtime_error(path + ": was written with different settings " +
                               state.at("config").dump() + " than this run " + p.config.dump() +
                               "; resuming it would mix two runs (start in another directory, "
                               "or afresh)");
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad checkpoint state (" + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::runtime_error(path + ": bad checkpoint state (" + e.what() + ")");
  }
}

}  // namespace adgap
