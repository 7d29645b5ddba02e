#include "adgap/eval/cells.h"
#include "adgap/model/trunk_kernel.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace adgap {

CellReading read_cell_grid(const Detector& det, const cv::Mat& gray, const CellGridConfig& cfg) {
  if (gray.empty() || gray.type() != CV_8UC1) {
    throw std::invalid_argument("cell grid: expected an 8-bit gray image");
  }
  if (cfg.cell < 4 || cfg.rows_per_class < 1) {
    throw std::invalid_argument("cell grid: cell must be >= 4 px and rows per class >= 1");
  }
  const int rows = gray.rows / cfg.cell, cols = gray.cols / cfg.cell;
  const int64_t classes = det.model.meta.num_classes;
  if (rows < 1 || cols < 1 || rows / cfg.rows_per_class > classes) {
    throw std::invalid_argument("cell grid: " + std::to_string(rows) + " rows of " +
                                std::to_string(cfg.cell) + " px cells do not fit " +
                                std::to_string(classes) + " classes of " +
                                std::to_string(cfg.rows_per_class) + " rows");
  }
  const bool own_reader = !det.cfg.reader.is_empty();
  LeNet reader = own_reader ? det.cfg.reader : det.model.net;
  CellReading r;
  r.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  at::NoGradGuard no_grad;
  const EvalModeGuard eval_mode(reader);
  for (int row = 0; row < rows; ++row) {
    const int truth = row / cfg.rows_per_class;
    std::vector<at::Tensor> crops;
    for (int col = 0; col < cols; ++col) {
      ++r.cells;
      cv::Mat d28;
      const cv::Mat cell = gray(cv::Rect(col * cfg.cell, row * cfg.cell, cfg.cell, cfg.cell));
      if (!mnist_normalize(cell, cfg.dark_on_light, d28)) {
        ++r.empty;
        continue;
      }
      crops.push_back(at::from_blob(d28.data, {1, 28, 28}, at::kFloat).clone());
    }
    if (crops.empty()) continue;
    const at::Tensor logp = inference_forward(reader, at::stack(crops));  // (K, C[+1])
    const at::Tensor best_all = logp.argmax(1);
    const at::Tensor best_digit = logp.narrow(1, 0, classes).argmax(1);
    for (size_t i = 0; i < crops.size(); ++i) {
      const int64_t k = static_cast<int64_t>(i);
      const int64_t read = best_digit[k].item<int64_t>();
      r.confusion[truth][read] += 1;
      r.right += read == truth;
      r.rejected += own_reader && best_all[k].item<int64_t>() == classes;
    }
  }
  return r;
}

}  // namespace adgap
