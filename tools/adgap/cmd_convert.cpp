// adgap convert: an adgap model or checkpoint of the old LibTorch format (.pt) made into a
// safetensors model file, while this LibTorch can still read the old one.
#include <cstdio>

#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_convert(int argc, char** argv) {
  std::vector<std::string> files;
  Args args("convert",
            "Convert an adgap model file of the old LibTorch format (.pt, written before\n"
            "adgap's files were safetensors) into a safetensors model file: the same weights\n"
            "and metadata. A training checkpoint's weights become a model file. Old files are\n"
            "read with LibTorch's own parser: convert only files you trust.");
  args.positionals(&files, "OLD.pt NEW.safetensors", 2);
  if (!args.parse(argc, argv, 2)) return 0;
  if (files.size() != 2) throw UsageError("give OLD.pt and NEW.safetensors");
  LoadedModel m = load_legacy_model(files[0]);
  save_model(files[1], m.net, m.meta);
  load_model(files[1]);  // reads back
  std::fprintf(stderr, "wrote %s (%s, %lld classes)\n", files[1].c_str(), m.meta.arch.c_str(),
               static_cast<long long>(m.meta.num_classes));
  return 0;
}

}  // namespace adgap::cli
