#include "adgap/report/training_report.h"

#include <cstdio>

#include "adgap/io/atomic_file.h"
#include "adgap/report/csv.h"
#include "adgap/report/plot.h"

namespace adgap {

std::string train_json_path(const std::string& d) { return d + "/train.json"; }
std::string loss_csv_path(const std::string& d) { return d + "/loss.csv"; }
std::string loss_png_path(const std::string& d) { return d + "/loss.png"; }

namespace {

nlohmann::json summary_json(const TrainConfig& cfg, const TrainResult& r) {
  return {{"model", r.meta.to_json()},
          {"config",
           {{"epochs", cfg.epochs},
            {"batch_size", cfg.batch_size},
            {"lr", cfg.lr},
            {"lr_decay", cfg.lr_decay},
            {"seed", cfg.seed}}},
          {"batches_per_epoch", r.batches_per_epoch},
          {"finished", r.finished},
          {"epochs", epochs_to_json(r.epochs)}};
}

}  // namespace

void write_training_report(const TrainConfig& cfg, const TrainResult& r) {
  atomic_write_text(train_json_path(cfg.out_dir), summary_json(cfg, r).dump(2) + "\n");
  if (r.batch_losses.empty()) return;  // resumed after the last epoch: nothing new to draw
  write_loss_csv(loss_csv_path(cfg.out_dir), r.batch_losses, r.batches_per_epoch);
  LossCurve curve;
  curve.batch_losses = r.batch_losses;
  curve.batches_per_epoch = r.batches_per_epoch;
  for (const EpochStats& e : r.epochs) curve.epoch_test_acc.push_back(e.test_accuracy);
  char title[160];
  std::snprintf(title, sizeof title,
                "AdGAP LeNet on %s: Adam lr %g (decay %g), batch %lld, seed %llu",
                r.meta.dataset.c_str(), cfg.lr, cfg.lr_decay,
                static_cast<long long>(cfg.batch_size), static_cast<unsigned long long>(cfg.seed));
  curve.title = title;
  plot_loss_curve(loss_png_path(cfg.out_dir), curve);
}

}  // namespace adgap
