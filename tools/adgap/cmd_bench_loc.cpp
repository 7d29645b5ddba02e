// adgap bench-loc: every localisation method on the generated benchmark (src/eval/loc_bench.h).
#include <algorithm>
#include <iostream>
#include <iterator>

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
  BenchV2Config v2;
  int64_t eval_count = -1;
  std::string methods = "all", data_dir = kDefaultDataDir, name, bench = "v2";
  std::string real_file = "bench/real_photos.json,bench/photos_digit_free.json";
  Args args("bench-loc",
            "Measure localisation and reading. v2 (default): benchmark v2's eval split (see\n"
            "`adgap scenes`), the detector's candidate recall, precision / recall / F1 at IoU >=\n"
            "0.5, reading, numbers read exactly, recall per condition, phone-size scenes, every\n"
            "method's map in the same chain, and the annotated real photos; writes\n"
            "<out>/<name>.{md,json} (name bench_v2). v1: the first benchmark (MNIST test digits\n"
            "14-120 px on squeezed photos): pointing game, PxAP, MaxBoxAccV2 and detection of\n"
            "each method's map, k tuned per method on the tune split; writes <name>.{md,json}\n"
            "and <name>_grid.png (name loc_bench).");
  args.text("bench", &bench, "B", "v2 or v1");
  o.add_to(args, /*detection=*/true);
  args.text("methods", &methods, "LIST", "comma-separated method names, or all");
  args.text("data", &data_dir, "DIR", "MNIST directory (its test split supplies the digits)");
  args.text("real", &real_file, "FILE[,FILE...]",
            "hand-annotated photos and photos with no digit (JSON; empty: none; the digit-free "
            "set's photos are installed by scripts/deps.sh --bench)");
  args.integer("eval-count", &eval_count, 1, 100000,
               "evaluation scenes (default: v2 200, v1 500)");
  args.integer("phone-count", &v2.phone_count, 0, 10000, "v2: phone-size (4000x3000) scenes");
  args.integer("text-count", &v2.text_count, 0, 10000,
               "v2: scenes of the text condition (half the items letter strings of the whole "
               "alphabet, digit-like letters too)");
  args.integer("methods-count", &v2.methods_count, 0, 100000,
               "v2: first eval scenes on which the maps are compared");
  args.integer("tune-count", &cfg.tune_count, 1, 100000, "v1: tuning scenes");
  args.integer("grid", &cfg.grid, 0, 20, "v1: scenes in the figure grid");
  args.flag("eval-on-tune", &cfg.eval_on_tune, "report on the tune split (for choosing settings)");
  args.flag("reader-for-all", &cfg.reader_for_all,
            "v1: let the reader classify every method's crops, not only adgap's");
  args.text("name", &name, "NAME", "base name of the result files (default: bench_v2 or loc_bench)");
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
  if (bench != "v1" && bench != "v2") throw UsageError("--bench: '" + bench + "' is not v2 or v1");
  const Localizer loc = o.load();
  const Detector& det = loc.detector();
  if (bench == "v2" && det.cfg.proposals != ProposalKind::kRegions) {
    throw UsageError("--bench v2 compares maps within the region-proposal chain, which needs a "
                     "reader trained on region proposals (adgap train-reader) and --proposals "
                     "auto or regions");
  }
  if (det.importance.cam_weights.empty() &&
      std::find(cfg.methods.begin(), cfg.methods.end(), Method::kCam) != cfg.methods.end()) {
    throw UsageError("--methods: cam needs a CAM classifier in the weights file; make it with "
                     "`adgap weights --cam`, or leave cam out");
  }
  const Dataset digits = load_split(data_dir, "test", det.model.meta.num_classes);
  std::vector<RealPhoto> real;
  for (const std::string& f : split_list(real_file)) {
    std::vector<RealPhoto> more = load_real_photos(f, bench == "v2");
    std::move(more.begin(), more.end(), std::back_inserter(real));
  }
  if (bench == "v2") {
    if (name.empty()) name = "bench_v2";
    if (eval_count > 0) v2.eval_count = eval_count;
    v2.methods = cfg.methods;
    v2.on_tune = cfg.eval_on_tune;
    const BenchV2Result r = run_bench_v2(det, digits, real, v2, &std::cout);
    std::cout << write_bench_v2(o.out, name, r, settings_of(det, real_file)) << "wrote " << o.out
              << "/" << name << ".{md,json}\n";
    return 0;
  }
  if (name.empty()) name = "loc_bench";
  if (eval_count > 0) cfg.eval_count = eval_count;
  const LocBenchResult r = run_loc_bench(det, digits, real, cfg, &std::cout);
  std::cout << write_loc_bench(o.out, name, r, settings_of(det, real_file)) << "wrote " << o.out
            << "/" << name << ".{md,json}" << (cfg.grid > 0 ? " and " + name + "_grid.png" : "")
            << "\n";
  return 0;
}

}  // namespace adgap::cli
