#include "adgap/data/dataset.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "adgap/data/idx.h"
#include "adgap/io/atomic_file.h"

namespace adgap {

std::string find_idx_file(const std::string& dir, const std::string& split,
                          const std::string& kind) {
  const std::string prefix = split == "test" ? "t10k" : split;
  const std::string base = dir + "/" + prefix + "-" + kind;
  for (const std::string& p : {base, base + ".gz"}) {
    if (std::filesystem::is_regular_file(p)) return p;
  }
  throw IdxError(base + ": not found (nor " + base +
                 ".gz): no IDX dataset there (scripts/fetch_mnist.sh fetches MNIST)");
}

namespace {

std::string label_at(const std::vector<uint8_t>& labels, size_t i) {
  return "label " + std::to_string(labels[i]) + " at index " + std::to_string(i);
}

// The class count: `given` (the model's, or --classes), every label below it; or, with
// given == 0, the largest label + 1, provided every class up to it has images, so that one
// damaged label byte cannot silently make a 201-class model.
int64_t checked_class_count(const std::vector<uint8_t>& labels, int64_t given,
                            const std::string& path) {
  if (given > 0) {
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] >= given) {
        throw IdxError(path + ": " + label_at(labels, i) + " is out of range for " +
                       std::to_string(given) + " classes");
      }
    }
    return given;
  }
  int64_t count[256] = {};
  for (uint8_t v : labels) ++count[v];
  int64_t largest = 0;
  for (int64_t k = 0; k < 256; ++k) {
    if (count[k] > 0) largest = k;
  }
  for (int64_t k = 0; k < largest; ++k) {
    if (count[k] > 0) continue;
    size_t i = 0;
    while (labels[i] <= k) ++i;  // the first label above the empty class: there is one
    throw IdxError(path + ": " + label_at(labels, i) + ", but no image has label " +
                   std::to_string(k) + " (a damaged label? --classes N trains N classes)");
  }
  return std::max<int64_t>(2, largest + 1);
}

}  // namespace

Dataset load_split(const std::string& dir, const std::string& split, int64_t num_classes) {
  const std::string img_path = find_idx_file(dir, split, "images-idx3-ubyte");
  const std::string lbl_path = find_idx_file(dir, split, "labels-idx1-ubyte");
  IdxArray img = read_idx_images(img_path);
  IdxArray lbl = read_idx_labels(lbl_path);
  if (img.dims[0] != lbl.dims[0]) {
    throw IdxError(lbl_path + ": holds " + std::to_string(lbl.dims[0]) + " labels but " + img_path +
                   " holds " + std::to_string(img.dims[0]) + " images");
  }
  if (img.dims[0] == 0) throw IdxError(img_path + ": holds no images");
  num_classes = checked_class_count(lbl.data, num_classes, lbl_path);
  Dataset d;
  std::filesystem::path dir_path = std::filesystem::path(dir).lexically_normal();
  if (dir_path.filename().empty()) dir_path = dir_path.parent_path();  // "data/mnist/"
  d.name = dir_path.filename().string() + "/" + split;
  const int64_t n = img.dims[0], h = img.dims[1], w = img.dims[2];
  // The tensor takes the decoded bytes over (a copy would touch as much fresh memory again).
  auto* bytes = new std::vector<uint8_t>(std::move(img.data));
  d.images = at::from_blob(
      bytes->data(), {n, 1, h, w}, [bytes](void*) { delete bytes; }, at::kByte);
  d.labels = at::from_blob(lbl.data.data(), {n}, at::kByte).to(at::kLong);
  d.num_classes = num_classes;
  return d;
}

namespace {

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

void save_split(const Dataset& d, const std::string& dir, const std::string& split) {
  TORCH_CHECK(d.images.dim() == 4 && d.images.size(1) == 1 && d.images.scalar_type() == at::kByte &&
                  d.labels.numel() == d.images.size(0),
              "save_split: expected (N, 1, H, W) uint8 images and N labels");
  TORCH_CHECK(d.labels.numel() == 0 || (d.labels.min().item<int64_t>() >= 0 &&
                                        d.labels.max().item<int64_t>() < 256),
              "save_split: labels must lie in [0, 256)");
  std::filesystem::create_directories(dir);
  const int64_t n = d.images.size(0), h = d.images.size(2), w = d.images.size(3);
  std::string img, lbl;
  put_be32(img, kIdxMagicImages);
  put_be32(img, static_cast<uint32_t>(n));
  put_be32(img, static_cast<uint32_t>(h));
  put_be32(img, static_cast<uint32_t>(w));
  const at::Tensor pixels = d.images.contiguous();
  img.append(reinterpret_cast<const char*>(pixels.data_ptr<uint8_t>()),
             static_cast<size_t>(n * h * w));
  put_be32(lbl, kIdxMagicLabels);
  put_be32(lbl, static_cast<uint32_t>(n));
  const at::Tensor labels = d.labels.to(at::kByte).contiguous();
  lbl.append(reinterpret_cast<const char*>(labels.data_ptr<uint8_t>()), static_cast<size_t>(n));
  const std::filesystem::path base(dir);
  atomic_write_text((base / (split + "-images-idx3-ubyte")).string(), img);
  atomic_write_text((base / (split + "-labels-idx1-ubyte")).string(), lbl);
}

at::Tensor to_input(const at::Tensor& images_u8) {
  TORCH_CHECK(images_u8.dim() == 4, "to_input: expected (N, C, H, W), got ", images_u8.sizes());
  return images_u8.to(at::kFloat).div_(255.0f);
}

Dataset head(const Dataset& d, int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  Dataset out = d;
  out.images = d.images.narrow(0, 0, n).contiguous();
  out.labels = d.labels.narrow(0, 0, n).contiguous();
  return out;
}

}  // namespace adgap
