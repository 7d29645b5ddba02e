#include "adgap/importance/importance.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "adgap/io/atomic_file.h"
#include "adgap/io/limits.h"
#include "adgap/util/json_int.h"
#include "adgap/model/trunk_kernel.h"

namespace adgap {

at::Tensor blocked_head(LeNet& net, const at::Tensor& maps) {
  const int64_t b = maps.size(0), ch = maps.size(1), cells = maps.size(2) * maps.size(3);
  TORCH_CHECK(ch == net->trunk_channels(), "blocked_head: expected ", net->trunk_channels(),
              " channels, got ", maps.sizes());
  const at::NoGradGuard no_grad;         // written in place: no gradient flows through
  const at::Tensor x = maps.flatten(1);  // (B, 16 * 49): channel i is columns [49 i, 49 i + 49)
  const at::Tensor& w1 = net->fc1->weight;  // (120, 784)
  const int64_t f1 = w1.size(0);
  // (V, B, 120): fc1's output, then for each channel i fc1's output less channel i's share,
  // (16, B, 49) x (16, 49, 120) -> (16, B, 120). fc1's output is the bias plus the sum of the
  // shares, so fc1 itself is not run; written in place, no copies.
  at::Tensor all = at::empty({ch + 1, b, f1});
  at::Tensor blocked = all.narrow(0, 1, ch);
  at::bmm_out(blocked, x.view({b, ch, cells}).transpose(0, 1),
              w1.view({f1, ch, cells}).permute({1, 2, 0}));
  at::Tensor z = all[0];
  at::sum_out(z, blocked, /*dim=*/0);
  z.add_(net->fc1->bias);
  blocked.neg_().add_(z.unsqueeze(0));
  all.relu_();
  const at::Tensor h = at::addmm(net->fc2->bias, all.view({(ch + 1) * b, f1}), net->fc2->weight.t())
                           .relu_();
  return at::log_softmax(at::addmm(net->fc3->bias, h, net->fc3->weight.t()), /*dim=*/1)
      .view({ch + 1, b, -1});
}

FilterImportance compute_importance(LeNet& net, const Dataset& data, int64_t batch_size) {
  TORCH_CHECK(batch_size > 0, "compute_importance: batch_size must be positive");
  const int64_t ch = net->trunk_channels(), nc = net->options().num_classes;
  const int64_t variants = ch + 1;  // 0: nothing blocked, 1 + i: channel i blocked

  // Each batch's sums, batches in parallel (each on one thread), then added in batch order:
  // the same result as one batch after the other.
  struct Sums {
    at::Tensor loss, wrong;  // per class and variant (C, V)
    at::Tensor count;        // per class (C)
    at::Tensor act, ccgap;   // per channel: sum of F_i, sum of (loss change / energy)
  };
  const int64_t batches = (data.size() + batch_size - 1) / batch_size;
  std::vector<Sums> parts(static_cast<size_t>(batches));
  const EvalModeGuard eval_mode(net);
  at::parallel_for(0, batches, 1, [&](int64_t b0, int64_t b1) {
    const at::NoGradGuard no_grad;  // grad mode is per thread
    for (int64_t k = b0; k < b1; ++k) {
      const int64_t start = k * batch_size, b = std::min(batch_size, data.size() - start);
      const at::Tensor x = to_input(data.images.narrow(0, start, b));
      const at::Tensor y = data.labels.narrow(0, start, b);                // (B)
      const at::Tensor maps = inference_trunk(net, x);                     // (B, 16, 7, 7)
      const at::Tensor logp = blocked_head(net, maps);                     // (V, B, C)
      const at::Tensor yv = y.unsqueeze(0).expand({variants, b});          // (V, B)
      const at::Tensor nll = -logp.gather(2, yv.unsqueeze(2)).squeeze(2);  // (V, B)
      const at::Tensor wrong = logp.argmax(2).ne(yv).to(at::kDouble);      // (V, B)
      // Each sample's values go into its true class's row.
      const at::Tensor onehot = at::one_hot(y, nc).to(at::kDouble);  // (B, C)
      Sums& s = parts[static_cast<size_t>(k)];
      s.loss = onehot.t().mm(nll.to(at::kDouble).t());  // (C, V)
      s.wrong = onehot.t().mm(wrong.t());
      s.count = onehot.sum(0);
      s.act = maps.sum({0, 2, 3}).to(at::kDouble);
      // ccGAP: each sample's loss change when i is blocked, over the energy sum(F_i^2).
      const at::Tensor energy = maps.pow(2).sum({2, 3}).to(at::kDouble);              // (B, 16)
      const at::Tensor change = (nll.narrow(0, 1, ch) - nll[0]).t().to(at::kDouble);  // (B, 16)
      s.ccgap =
          at::where(energy > 0, change / energy.clamp_min(1e-12), at::zeros_like(change)).sum(0);
    }
  });
  at::Tensor loss_sum = at::zeros({nc, variants}, at::kDouble);
  at::Tensor wrong_sum = at::zeros({nc, variants}, at::kDouble);
  at::Tensor count = at::zeros({nc}, at::kDouble);
  at::Tensor act_sum = at::zeros({ch}, at::kDouble);
  at::Tensor ccgap_sum = at::zeros({ch}, at::kDouble);
  for (const Sums& s : parts) {
    loss_sum += s.loss;
    wrong_sum += s.wrong;
    count += s.count;
    act_sum += s.act;
    ccgap_sum += s.ccgap;
  }
  const at::NoGradGuard no_grad;

  FilterImportance r;
  r.split = data.name;
  r.samples = data.size();
  r.channels = ch;
  r.classes = nc;
  const int64_t cells = LeNetImpl(net->options()).head_map_size();
  for (int64_t i = 0; i < ch; ++i) {
    r.mean_activation.push_back(act_sum[i].item<double>() / (data.size() * cells * cells));
    r.ccgap.push_back(ccgap_sum[i].item<double>() / data.size());
  }
  const at::Tensor total_loss = loss_sum.sum(0), total_wrong = wrong_sum.sum(0);  // (V)
  const double n = static_cast<double>(r.samples);
  r.baseline_loss = total_loss[0].item<double>() / n;
  r.baseline_error = total_wrong[0].item<double>() / n;
  for (int64_t i = 0; i < ch; ++i) {
    r.loss_rise.push_back((total_loss[1 + i].item<double>() - total_loss[0].item<double>()) / n);
    r.error_rise.push_back((total_wrong[1 + i].item<double>() - total_wrong[0].item<double>()) / n);
  }
  for (int64_t c = 0; c < nc; ++c) {
    const double k = count[c].item<double>();
    r.class_samples.push_back(static_cast<int64_t>(k));
    const double d = std::max(k, 1.0);
    r.class_baseline_loss.push_back(loss_sum[c][0].item<double>() / d);
    std::vector<double> lr, er;
    for (int64_t i = 0; i < ch; ++i) {
      lr.push_back((loss_sum[c][1 + i].item<double>() - loss_sum[c][0].item<double>()) / d);
      er.push_back((wrong_sum[c][1 + i].item<double>() - wrong_sum[c][0].item<double>()) / d);
    }
    r.class_loss_rise.push_back(lr);
    r.class_error_rise.push_back(er);
  }
  return r;
}

std::vector<float> FilterImportance::weights(int64_t c, bool by_error) const {
  if (c >= classes) {
    throw std::out_of_range("class " + std::to_string(c) + " out of range [0, " +
                            std::to_string(classes) + ")");
  }
  const std::vector<double>& src = c < 0 ? (by_error ? error_rise : loss_rise)
                                         : (by_error ? class_error_rise : class_loss_rise)[c];
  return {src.begin(), src.end()};
}

nlohmann::json FilterImportance::to_json() const {
  return {{"sign", "E_i - e (rise when channel i is blocked)"},
          {"split", split},
          {"samples", samples},
          {"channels", channels},
          {"classes", classes},
          {"baseline_loss", baseline_loss},
          {"baseline_error", baseline_error},
          {"loss_rise", loss_rise},
          {"error_rise", error_rise},
          {"class_samples", class_samples},
          {"class_baseline_loss", class_baseline_loss},
          {"class_loss_rise", class_loss_rise},
          {"class_error_rise", class_error_rise},
          {"mean_activation", mean_activation},
          {"ccgap", ccgap},
          {"cam_weights", cam_weights},
          {"cam_bias", cam_bias},
          {"cam_accuracy", cam_accuracy}};
}

FilterImportance FilterImportance::from_json(const nlohmann::json& j, const std::string& source) {
  FilterImportance r;
  try {
    r.split = j.at("split").get<std::string>();
    r.samples = json_int(j.at("samples"), 0);
    r.channels = json_int(j.at("channels"), 1, 1 << 20);
    r.classes = json_int(j.at("classes"), 1, 1 << 20);
    r.baseline_loss = j.at("baseline_loss").get<double>();
    r.baseline_error = j.at("baseline_error").get<double>();
    r.loss_rise = j.at("loss_rise").get<std::vector<double>>();
    r.error_rise = j.at("error_rise").get<std::vector<double>>();
    r.class_samples = json_ints(j.at("class_samples"), 0);
    r.class_baseline_loss = j.at("class_baseline_loss").get<std::vector<double>>();
    r.class_loss_rise = j.at("class_loss_rise").get<std::vector<std::vector<double>>>();
    r.class_error_rise = j.at("class_error_rise").get<std::vector<std::vector<double>>>();
    r.mean_activation = j.at("mean_activation").get<std::vector<double>>();
    r.ccgap = j.at("ccgap").get<std::vector<double>>();
    r.cam_weights = j.at("cam_weights").get<std::vector<std::vector<double>>>();
    r.cam_bias = j.at("cam_bias").get<std::vector<double>>();
    r.cam_accuracy = j.at("cam_accuracy").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source + ": not a filter-importance file (" + e.what() + ")");
  } catch (const JsonIntError& e) {
    throw std::runtime_error(source + ": not a filter-importance file (" + e.what() + ")");
  }
  const auto sized = [&](const std::vector<std::vector<double>>& m) {
    if (static_cast<int64_t>(m.size()) != r.classes) return false;
    for (const auto& row : m) {
      if (static_cast<int64_t>(row.size()) != r.channels) return false;
    }
    return true;
  };
  if (static_cast<int64_t>(r.loss_rise.size()) != r.channels ||
      static_cast<int64_t>(r.error_rise.size()) != r.channels || !sized(r.class_loss_rise) ||
      !sized(r.class_error_rise) || static_cast<int64_t>(r.mean_activation.size()) != r.channels ||
      static_cast<int64_t>(r.ccgap.size()) != r.channels ||
      (!r.cam_weights.empty() &&
       (!sized(r.cam_weights) || static_cast<int64_t>(r.cam_bias.size()) != r.classes))) {
    throw std::runtime_error(source + ": filter-importance arrays do not match " +
                             std::to_string(r.classes) + " classes x " +
                             std::to_string(r.channels) + " channels");
  }
  return r;
}

void save_importance(const std::string& path, const FilterImportance& imp) {
  atomic_write_text(path, imp.to_json().dump(2) + "\n");
}

FilterImportance load_importance(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(
      read_whole_file(path, kMaxJsonBytes, "filter-importance file"), nullptr,
      /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::runtime_error(path + ": not valid JSON");
  return FilterImportance::from_json(j, path);
}

}  // namespace adgap
