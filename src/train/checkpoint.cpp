#include "adgap/train/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <stdexcept>

#include "adgap/model/archive.h"
#include "adgap/util/json_int.h"

namespace adgap {

void save_checkpoint(const std::string& path, LeNet& net, const ModelMeta& meta,
                     torch::optim::Adam& opt, const TrainProgress& p) {
  torch::serialize::OutputArchive ar, weights, optim;
  net->save(weights);
  opt.save(optim);
  ar.write("model", weights);
  ar.write("optimizer", optim);
  write_meta(ar, meta);
  const nlohmann::json state = {{"epochs_done", p.epochs_done},
                                {"step", p.step},
                                {"rng_state", p.rng_state},
                                {"batches_per_epoch", p.result->batches_per_epoch},
                                {"epochs", epochs_to_json(p.result->epochs)},
                                {"config", p.config}};
  ar.write("state_json", c10::IValue(state.dump()));
  std::vector<float> losses = p.result->batch_losses;
  ar.write("batch_losses",
           at::from_blob(losses.data(), {static_cast<int64_t>(losses.size())}, at::kFloat).clone());
  save_archive(path, ar);
}

void load_checkpoint(const std::string& path, LeNet& net, ModelMeta& meta, torch::optim::Adam& opt,
                     TrainProgress& p) {
  torch::serialize::InputArchive ar, weights, optim;
  nlohmann::json state;
  load_archive(path, ar);
  try {
    meta = read_meta(ar, path);
    ar.read("model", weights);
    net->load(weights);
    ar.read("optimizer", optim);
    opt.load(optim);
    c10::IValue s;
    ar.read("state_json", s);
    state = nlohmann::json::parse(s.toStringRef());
    at::Tensor losses;
    ar.read("batch_losses", losses);
    losses = losses.contiguous();
    p.result->batch_losses.assign(losses.data_ptr<float>(),
                                  losses.data_ptr<float>() + losses.numel());
    p.epochs_done = json_int(state.at("epochs_done"), 0);
    p.step = json_int(state.at("step"), 0);
    p.rng_state = state.at("rng_state").get<std::string>();
    p.result->batches_per_epoch = json_int(state.at("batches_per_epoch"), 0);
    p.result->epochs = epochs_from_json(state.at("epochs"));
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": unreadable checkpoint (" +
                             std::string(e.what_without_backtrace()) + ")");
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad checkpoint state (" + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::runtime_error(path + ": bad checkpoint state (" + e.what() + ")");
  }
  if (state.at("config") != p.config) {
    throw std::runtime_error(path + ": was written with different settings " +
                             state.at("config").dump() + " than this run " + p.config.dump() +
                             "; resuming it would mix two runs (start in another directory, or afresh)");
  }
}

}  // namespace adgap
