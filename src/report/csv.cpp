#include "adgap/report/csv.h"

#include <cstdio>

#include "adgap/io/atomic_file.h"

namespace adgap {

void write_loss_csv(const std::string& path, const std::vector<float>& losses,
                    int64_t batches_per_epoch) {
  std::string out = "epoch,batch,step,loss\n";
  char line[96];
  for (size_t t = 0; t < losses.size(); ++t) {
    const long long step = static_cast<long long>(t);
    std::snprintf(line, sizeof line, "%lld,%lld,%lld,%.6f\n", step / batches_per_epoch + 1,
                  step % batches_per_epoch + 1, step + 1, losses[t]);
    out += line;
  }
  atomic_write_text(path, out);
}

}  // namespace adgap
