// The CAM baseline's classifier (Zhou et al. 2016): a linear softmax classifier on the global
// average of each final filter map, trained after filter importance is measured and stored
// beside it in the weights file (FilterImportance::cam_*).
#pragma once

#include <cstdint>

#include "adgap/data/dataset.h"
#include "adgap/importance/importance.h"
#include "adgap/model/lenet.h"

namespace adgap {

// Trains the classifier on `data` (Adam, `epochs` passes of minibatches of 300, seed 0) and
// stores it in `imp`.
void train_cam(LeNet& net, const Dataset& data, FilterImportance& imp, int64_t epochs = 5);

}  // namespace adgap
