// adgap bench-loc: every localisation method on the generated benchmark (src/eval/loc_bench.h).
#include <iostream>

#include "adgap/data/dataset.h"
#include "adgap/eval/loc_bench.h"
#include "adgap/report/bench_report.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

int cmd_bench_loc(int argc, char** argv) {
  MapOptions o;
  o.out = "docs/results";
  LocBenchConfig cfg;
  std::string methods = "all", data_dir = kDefaultDataDir, name = "loc_bench";
  std::string real_file = "bench/real_photos.json";
  Args args("bench-loc",
            "Measure localisation on the generated benchmark (MNIST test digits 14-120 px on\n"
            "photos, both polarities, contrast, blur, noise, some scenes empty): pointing game,\n"
            "PxAP, MaxBoxAccV2 of each method's map, and detection precision / recall / F1 at\n"
            "IoU >= 0.5 and reading accuracy, each method's threshold k (mean + k std) tuned on\n"
            "the tune split. Writes <out>/<name>.{md,json} and <name>_grid.png.");
  o.add_to(args, /*detection=*/true);
  args.text("methods", &methods, "LIST", "comma-separated method names, or all");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.text("real", &real_file, "FILE", "hand-annotated photos (JSON; empty: none)");
  args.integer("eval-count", &cfg.eval_count, 1, 100000, "evaluation scenes");
  args.integer("tune-count", &cfg.tune_count, 1, 100000, "tuning scenes");
  args.integer("grid", &cfg.grid, 0, 20, "scenes in the figure grid");
  args.flag("eval-on-tune", &cfg.eval_on_tune, "report on the tune split (for choosing settings)");
  args.flag("reader-for-all", &cfg.reader_for_all,
            "let the reader classify every method's crops, not only adgap's");
  args.text("name", &name, "NAME", "base name of the result files");
  if (!args.parse(argc, argv, 2)) return 0;
  if (methods != "all") {
    cfg.methods.clear();
    for (const std::string& m : split_list(methods)) {
      try {
        cfg.methods.push_back(parse_method(m));
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--methods: ") + e.what());
      }
    }
    if (cfg.methods.empty()) throw UsageError("--methods: no method given");
  }
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  const Dataset digits = load_split(data_dir, "test", det.model.meta.num_classes);
  const std::vector<RealPhoto> real =
      real_file.empty() ? std::vector<RealPhoto>{} : load_real_photos(real_file);
  const LocBenchResult r = run_loc_bench(det, digits, real, cfg, &std::cout);
  std::cout << write_loc_bench(o.out, name, r, settings_of(det, real_file)) << "wrote " << o.out
            << "/" << name << ".{md,json}" << (cfg.grid > 0 ? " and " + name + "_grid.png" : "")
            << "\n";
  return 0;
}

}  // namespace adgap::cli
