// adgap convert: an adgap model or checkpoint of the old LibTorch format (.pt), or a training
// checkpoint, made into a safetensors model file.
#include <cstdio>

#include "adgap/io/limits.h"
#include "adgap/io/safetensors.h"
#include "adgap/train/checkpoint.h"

#include "args.h"
#include "commands.h"

namespace adgap::cli {

int cmd_convert(int argc, char** argv) {
  std::vector<std::string> files;
  Args args("convert",
            "Convert an adgap model file of the old LibTorch format (.pt, written before\n"
            "adgap's files were safetensors) into a safetensors model file: the same weights\n"
            "and metadata. A training checkpoint's weights become a model file. Old files are\n"
            "read with LibTorch's own parser: convert only files you trust.\n"
            "A training checkpoint (checkpoint.safetensors, written after every epoch) also\n"
            "becomes a model file: the weights after its last finished epoch, as a run asked\n"
            "for that many epochs would have written them (to keep a run stopped early).");
  args.positionals(&files, "OLD NEW.safetensors", 2);
  if (!args.parse(argc, argv, 2)) return 0;
  if (files.size() != 2) throw UsageError("give OLD (.pt, or a checkpoint) and NEW.safetensors");
  const bool checkpoint =
      looks_like_safetensors(read_whole_file(files[0], kMaxModelFileBytes, "model file"));
  LoadedModel m = checkpoint ? load_checkpoint_model(files[0]) : load_legacy_model(files[0]);
  save_model(files[1], m.net, m.meta);
  load_model(files[1]);  // reads back
  std::fprintf(stderr, "wrote %s (%s, %lld classes)\n", files[1].c_str(), m.meta.arch.c_str(),
               static_cast<long long>(m.meta.num_classes));
  return 0;
}

}  // namespace adgap::cli
