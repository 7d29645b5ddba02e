// Classification accuracy of a trained network: overall, per class, and the confusion matrix.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "adgap/data/dataset.h"
#include "adgap/model/lenet.h"

namespace adgap {

struct EvalResult {
  int64_t count = 0;                            // images evaluated
  double mean_loss = 0;                         // mean NLL
  double accuracy = 0;                          // fraction right
  std::vector<int64_t> class_count;             // (C) images per true class
  std::vector<double> class_accuracy;           // (C) recall of each class
  std::vector<std::vector<int64_t>> confusion;  // (C, C) [true][predicted]

  nlohmann::json to_json() const;
  // A human-readable report: overall line, per-class table, confusion matrix.
  std::string to_text() const;
};

// Runs the network in eval mode without gradients over `data`, `batch_size` images at a time.
EvalResult evaluate(LeNet& net, const Dataset& data, int64_t batch_size = 1000);

}  // namespace adgap
