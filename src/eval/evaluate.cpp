#include "adgap/eval/evaluate.h"
#include "adgap/model/trunk_kernel.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <sstream>

namespace adgap {

EvalResult evaluate(LeNet& net, const Dataset& data, int64_t batch_size) {
  TORCH_CHECK(batch_size > 0, "evaluate: batch_size must be positive");
  TORCH_CHECK(data.num_classes <= net->options().num_classes, "evaluate: ", data.name, " has ",
              data.num_classes, " classes but the model only ", net->options().num_classes);
  const int64_t c = net->options().num_classes;
  EvalResult r;
  r.count = data.size();
  r.class_count.assign(c, 0);
  r.class_accuracy.assign(c, 0.0);
  r.confusion.assign(c, std::vector<int64_t>(c, 0));
  at::NoGradGuard no_grad;
  const EvalModeGuard eval_mode(net);
  double loss_sum = 0;
  for (int64_t start = 0; start < r.count; start += batch_size) {
    const int64_t n = std::min(batch_size, r.count - start);
    at::Tensor x = to_input(data.images.narrow(0, start, n));
    at::Tensor y = data.labels.narrow(0, start, n);
    at::Tensor logp = inference_forward(net, x);  // (n, C)
    loss_sum += at::nll_loss(logp, y, {}, at::Reduction::Sum).item<double>();
    at::Tensor pred = logp.argmax(1).contiguous();
    at::Tensor yc = y.contiguous();
    const int64_t* pp = pred.data_ptr<int64_t>();
    const int64_t* yp = yc.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) r.confusion[yp[i]][pp[i]]++;
  }
  int64_t right = 0;
  for (int64_t k = 0; k < c; ++k) {
    for (int64_t j = 0; j < c; ++j) r.class_count[k] += r.confusion[k][j];
    right += r.confusion[k][k];
    r.class_accuracy[k] = r.class_count[k] ? double(r.confusion[k][k]) / r.class_count[k] : 0.0;
  }
  r.accuracy = r.count ? double(right) / r.count : 0.0;
  r.mean_loss = r.count ? loss_sum / r.count : 0.0;
  return r;
}

nlohmann::json EvalResult::to_json() const {
  return {{"count", count},
          {"mean_loss", mean_loss},
          {"accuracy", accuracy},
          {"class_count", class_count},
          {"class_accuracy", class_accuracy},
          {"confusion", confusion}};
}

namespace {
// Wider confusion matrices are summarised per class in the text (16 columns: 106 characters).
constexpr size_t kMaxConfusionColumns = 16;
}  // namespace

std::string EvalResult::to_text() const {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "accuracy %.2f %% (%lld images, mean NLL %.4f)\n",
                100 * accuracy, static_cast<long long>(count), mean_loss);
  os << line;
  const size_t c = confusion.size();
  if (c > kMaxConfusionColumns) {
    // A matrix this wide does not fit a terminal: per class, its most frequent wrong answer
    // (the whole matrix is in the JSON).
    os << "class  images  accuracy   most often mistaken for\n";
    for (size_t k = 0; k < c; ++k) {
      size_t worst = k;
      for (size_t j = 0; j < c; ++j) {
        if (j != k && confusion[k][j] > 0 && (worst == k || confusion[k][j] > confusion[k][worst])) {
          worst = j;
        }
      }
      std::snprintf(line, sizeof line, "%5zu  %6lld  %7.2f %%  ", k,
                    static_cast<long long>(class_count[k]), 100 * class_accuracy[k]);
      os << line;
      if (worst != k) {
        std::snprintf(line, sizeof line, "%zu (%lld)", worst,
                      static_cast<long long>(confusion[k][worst]));
        os << line;
      } else {
        os << "-";
      }
      os << "\n";
    }
    return os.str();
  }
  os << "class  images  accuracy   confusion (rows: true, columns: predicted)\n";
  os << "                          ";
  for (size_t j = 0; j < c; ++j) {
    std::snprintf(line, sizeof line, "%5zu", j);
    os << line;
  }
  os << "\n";
  for (size_t k = 0; k < c; ++k) {
    std::snprintf(line, sizeof line, "%5zu  %6lld  %7.2f %%  ", k,
                  static_cast<long long>(class_count[k]), 100 * class_accuracy[k]);
    os << line;
    for (size_t j = 0; j < c; ++j) {
      std::snprintf(line, sizeof line, "%5lld", static_cast<long long>(confusion[k][j]));
      os << line;
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace adgap
