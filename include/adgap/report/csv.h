// The per-batch training loss as CSV: epoch,batch,step,loss.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace adgap {

// Writes `losses` (one per update, batches_per_epoch per epoch) to `path` atomically.
void write_loss_csv(const std::string& path, const std::vector<float>& losses,
                    int64_t batches_per_epoch);

}  // namespace adgap
