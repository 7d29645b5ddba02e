// Reading a grid of digit cells, such as opencv-doc's digits.png (5,000 handwritten digits in
// 20 x 20 cells, 100 per row, five rows per class from 0 to 9): each cell is normalised like a
// detection's crop and read by the reader (or, without one, the model). A measure of how the
// reader carries to handwriting that is not MNIST's; for testing, never for tuning.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <vector>

#include "adgap/detect/detector.h"

namespace adgap {

struct CellGridConfig {
  int cell = 20;               // px: cell edge
  int rows_per_class = 5;      // cell rows of each class, classes in order from 0
  bool dark_on_light = false;  // digits.png: light strokes on black
};

struct CellReading {
  int64_t cells = 0;
  int64_t right = 0;     // the most probable digit class is the cell's class
  int64_t rejected = 0;  // the reader's "not a digit" class was the most probable of all
  int64_t empty = 0;     // no strokes found in the cell (counted wrong)
  std::vector<std::vector<int64_t>> confusion;  // [true][read] over the digit classes
  double accuracy() const { return cells ? double(right) / cells : 0.0; }
};

// Reads every cell of an 8-bit gray grid image with `det`'s reader (or model).
CellReading read_cell_grid(const Detector& det, const cv::Mat& gray, const CellGridConfig& cfg);

}  // namespace adgap
