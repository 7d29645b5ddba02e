// adgap read-cells: how well the reader reads a grid of handwritten digit cells (digits.png).
#include <cstdio>
#include <iostream>

#include "adgap/eval/cells.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/image.h"
#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_read_cells(int argc, char** argv) {
  std::string model, reader, json_path;
  std::string image = "/usr/share/doc/opencv-doc/examples/data/digits.png";
  int64_t cell = 20, rows_per_class = 5, threads = 0;
  bool dark_on_light = false;
  Args args("read-cells",
            "Read every cell of a grid of digits with the reader (or the model) and report the\n"
            "accuracy, per class and as a confusion matrix. The default image is opencv-doc's\n"
            "digits.png: 5,000 handwritten digits in 20 x 20 cells, five rows per class, light\n"
            "on black. A test of how the reader carries to other handwriting, not for tuning.");
  args.text("model", &model, "FILE", "trained model (default: adgap's own)");
  args.text("reader", &reader, "FILE",
            "reader (default: reader/model.safetensors beside the model; none: the model)");
  args.text("image", &image, "FILE", "the grid image");
  args.integer("cell", &cell, 4, 1000, "px: cell edge");
  args.integer("rows-per-class", &rows_per_class, 1, 1000, "cell rows of each class, from 0");
  args.flag("dark-on-light", &dark_on_light, "dark strokes on a light ground");
  args.text("json", &json_path, "FILE", "also write the result as JSON");
  args.integer("threads", &threads, 0, 256, "intra-op threads, 0 = one per core");
  if (!args.parse(argc, argv, 2)) return 0;
  set_num_threads(static_cast<int>(threads));
  Options o;
  o.reader = reader;
  const Localizer loc = Localizer::load(model, o);
  const CellGridConfig cfg{static_cast<int>(cell), static_cast<int>(rows_per_class), dark_on_light};
  const CellReading r = read_cell_grid(loc.detector(), to_gray(load_bgr(image)), cfg);
  std::printf(
      "%s: %lld cells, %.2f %% read right (%lld empty, %lld called 'not a digit' by the "
      "reader); %s\n",
      image.c_str(), static_cast<long long>(r.cells), 100 * r.accuracy(),
      static_cast<long long>(r.empty), static_cast<long long>(r.rejected),
      loc.reader_path().empty() ? "the model reads" : loc.reader_path().c_str());
  std::printf("true\\read");
  for (size_t c = 0; c < r.confusion.size(); ++c) std::printf(" %5zu", c);
  std::printf("\n");
  for (size_t t = 0; t < r.confusion.size(); ++t) {
    std::printf("%9zu", t);
    for (int64_t v : r.confusion[t]) std::printf(" %5lld", static_cast<long long>(v));
    std::printf("\n");
  }
  if (!json_path.empty()) {
    const nlohmann::json j = {
        {"image", image},   {"model", loc.model_path()},         {"reader", loc.reader_path()},
        {"cells", r.cells}, {"right", r.right},       {"accuracy", r.accuracy()},
        {"empty", r.empty}, {"rejected", r.rejected}, {"confusion", r.confusion}};
    atomic_write_text(json_path, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace adgap::cli
