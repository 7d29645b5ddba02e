// An image classification split (MNIST, Fashion-MNIST, ...) held in memory as tensors.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>

namespace adgap {

struct Dataset {
  std::string name;         // e.g. "mnist/train"
  at::Tensor images;        // (N, 1, H, W) uint8, raw pixel values 0..255
  at::Tensor labels;        // (N) int64, each in [0, num_classes)
  int64_t num_classes = 0;  // max label + 1 of the training split

  int64_t size() const { return labels.numel(); }
};

// Finds `<split>-images-idx3-ubyte` and `<split>-labels-idx1-ubyte` in `dir` (each optionally
// with a `.gz` suffix); `split` is "train" or "t10k"/"test". Checks that image and label counts
// agree and that every label is below `num_classes`; with num_classes == 0 the class count is
// taken from the data (max label + 1, at least 2), provided every class up to the largest label
// has images. Throws adgap::IdxError naming the file (and, for labels, the first offending
// label's index and value).
Dataset load_split(const std::string& dir, const std::string& split, int64_t num_classes = 0);

// Writes `d` (N, 1, H, W uint8 images, labels under 256) as `<split>-images-idx3-ubyte` and
// `<split>-labels-idx1-ubyte` in `dir` (created if missing), each file atomically, so that
// load_split(dir, split) reads it back. Throws std::runtime_error naming the file on failure.
void save_split(const Dataset& d, const std::string& dir, const std::string& split);

// Path of an IDX file of the split, raw or .gz, whichever exists; throws naming both if neither.
std::string find_idx_file(const std::string& dir, const std::string& split,
                          const std::string& kind);

// Converts uint8 images (N, 1, H, W) to float in [0, 1] (pixels / 255), the network's input.
at::Tensor to_input(const at::Tensor& images_u8);

// The first `n` samples (all of them when n <= 0 or n >= size()).
Dataset head(const Dataset& d, int64_t n);

}  // namespace adgap
