// The IDX reader: valid raw and gzip input, every kind of defect, and the real datasets.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "adgap/data/dataset.h"
#include "adgap/data/idx.h"
#include "fixtures.h"

namespace adgap {
namespace {

using test::idx_bytes;
using test::TempDir;

// Expects `fn` to throw IdxError whose message contains `needle`.
template <class Fn>
void expect_idx_error(Fn fn, const std::string& needle) {
  try {
    fn();
    FAIL() << "no IdxError; expected one mentioning '" << needle << "'";
  } catch (const IdxError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::vector<uint8_t> images_2x3x4() {
  std::vector<uint8_t> px(24);
  for (int i = 0; i < 24; ++i) px[i] = static_cast<uint8_t>(10 * i);
  return idx_bytes(kIdxMagicImages, {2, 3, 4}, px);
}

TEST(Idx, ParsesValidImages) {
  const IdxArray a = parse_idx(images_2x3x4(), kIdxMagicImages, "x");
  ASSERT_EQ(a.dims, (std::vector<uint32_t>{2, 3, 4}));
  ASSERT_EQ(a.data.size(), 24u);
  EXPECT_EQ(a.data[0], 0);
  EXPECT_EQ(a.data[23], 230);
}

TEST(Idx, ReadsRawAndGzipIdentically) {
  TempDir dir;
  test::write_bytes(dir.file("raw"), images_2x3x4());
  test::write_gzip(dir.file("raw.gz"), images_2x3x4());
  const IdxArray raw = read_idx_images(dir.file("raw"));
  const IdxArray gz = read_idx_images(dir.file("raw.gz"));
  EXPECT_EQ(raw.dims, gz.dims);
  EXPECT_EQ(raw.data, gz.data);
  EXPECT_GT(test::read_bytes(dir.file("raw.gz")).size(), 2u);
}

TEST(Idx, TruncatedAtEveryOffsetThrowsNamingTheFile) {
  const std::vector<uint8_t> full = images_2x3x4();  // 16-byte header + 24 bytes
  for (size_t cut : {size_t{0}, size_t{2}, size_t{4}, size_t{9}, size_t{15}, size_t{16}, size_t{17},
                     full.size() - 1}) {
    std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string name = "cut-at-" + std::to_string(cut);
    try {
      parse_idx(part, kIdxMagicImages, name);
      ADD_FAILURE() << "no error for truncation at " << cut;
    } catch (const IdxError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(name + ":", 0), 0u) << e.what();
    }
  }
}

TEST(Idx, TruncatedPayloadSaysSo) {
  std::vector<uint8_t> b = images_2x3x4();
  b.pop_back();
  expect_idx_error([&] { parse_idx(b, kIdxMagicImages, "f"); }, "truncated");
}

TEST(Idx, TrailingDataIsAnError) {
  std::vector<uint8_t> b = images_2x3x4();
  b.push_back(0);
  expect_idx_error([&] { parse_idx(b, kIdxMagicImages, "f"); }, "trailing data");
}

TEST(Idx, WrongMagicNumberIsReported) {
  expect_idx_error([&] { parse_idx(images_2x3x4(), kIdxMagicLabels, "f"); },
                   "wrong magic number 0x00000803, expected 0x00000801");
  std::vector<uint8_t> b = images_2x3x4();
  b[2] = 0x0d;  // float type code
  expect_idx_error([&] { parse_idx(b, kIdxMagicImages, "f"); }, "wrong magic number");
}

TEST(Idx, AbsurdDeclaredSizeIsRejectedWithoutAllocating) {
  // 0xffffffff^3 overflows 64 bits; the checked product must catch it.
  const std::vector<uint8_t> b =
      idx_bytes(kIdxMagicImages, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {});
  expect_idx_error([&] { parse_idx(b, kIdxMagicImages, "f"); }, "absurd");
}

TEST(Idx, EmptyImageSizeIsRejected) {
  TempDir dir;
  test::write_bytes(dir.file("e"), idx_bytes(kIdxMagicImages, {3, 0, 28}, {}));
  expect_idx_error([&] { read_idx_images(dir.file("e")); }, "empty");
}

TEST(Idx, MissingFileAndTruncatedGzipAreReported) {
  TempDir dir;
  expect_idx_error([&] { read_idx_images(dir.file("nope")); }, "nope: cannot open");
  test::write_gzip(dir.file("t.gz"), images_2x3x4());
  std::vector<uint8_t> gz = test::read_bytes(dir.file("t.gz"));
  gz.resize(gz.size() / 2);
  test::write_bytes(dir.file("t.gz"), gz);
  expect_idx_error([&] { read_idx_images(dir.file("t.gz")); }, "gzip");
}

TEST(Dataset, LoadsSplitAndTakesClassCountFromData) {
  TempDir dir;
  test::write_split(dir.str(), "train", 12, 8, 8, /*classes=*/4);
  test::write_split(dir.str(), "t10k", 5, 8, 8, 4, /*gz=*/true);
  const Dataset train = load_split(dir.str(), "train");
  EXPECT_EQ(train.num_classes, 4);
  EXPECT_EQ(train.size(), 12);
  EXPECT_EQ(train.images.sizes(), (at::IntArrayRef{12, 1, 8, 8}));
  EXPECT_EQ(train.labels.dtype(), at::kLong);
  EXPECT_EQ(train.labels[5].item<int64_t>(), 1);
  EXPECT_EQ(train.images[1][0][0][0].item<uint8_t>(), 7 + 64);  // (1*7 + 64) % 256
  const Dataset test = load_split(dir.str(), "test", train.num_classes);
  EXPECT_EQ(test.size(), 5);
  const at::Tensor x = to_input(test.images);
  EXPECT_NEAR(x.max().item<float>(), test.images.max().item<uint8_t>() / 255.0f, 1e-7f);
}

TEST(Dataset, SavedSplitReadsBackIdentically) {
  TempDir dir;
  Dataset d;
  d.name = "crops/mined";
  d.num_classes = 11;
  d.images = at::randint(0, 256, {7, 1, 28, 28}, at::kByte);
  d.labels = at::tensor(std::vector<int64_t>{0, 10, 3, 10, 9, 1, 10});
  save_split(d, dir.str() + "/sub", "mined");
  const Dataset back = load_split(dir.str() + "/sub", "mined", 11);
  EXPECT_TRUE(at::equal(back.images, d.images));
  EXPECT_TRUE(at::equal(back.labels, d.labels));
  EXPECT_EQ(back.name, "sub/mined");
  // A label that does not fit a byte is refused before anything is written.
  d.labels[2] = 300;
  EXPECT_THROW(save_split(d, dir.str() + "/other", "mined"), c10::Error);
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/other"));
}

TEST(Dataset, MismatchedCountsAndLabelRangeAreReported) {
  TempDir dir;
  test::write_split(dir.str(), "train", 10, 4, 4, 3);
  test::write_split(dir.str(), "t10k", 10, 4, 4, 3);
  std::vector<uint8_t> labels(9, 0);  // one label short of the 10 images
  test::write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(kIdxMagicLabels, {9}, labels));
  expect_idx_error([&] { load_split(dir.str(), "test"); }, "holds 9 labels but");
  labels.assign(10, 0);
  labels[3] = 7;
  test::write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(kIdxMagicLabels, {10}, labels));
  expect_idx_error([&] { load_split(dir.str(), "test", /*num_classes=*/3); },
                   "t10k-labels-idx1-ubyte: label 7 at index 3 is out of range for 3 classes");
  expect_idx_error([&] { load_split(dir.str() + "/missing", "train"); }, "not found");
}

// One damaged label byte must not make a 201-class dataset: without a given class count, every
// class up to the largest label needs images, else the first label past the gap is named.
TEST(Dataset, ClassCountFromLabelsNeedsEveryClassUpToTheLargest) {
  TempDir dir;
  test::write_split(dir.str(), "train", 40, 4, 4, 10);  // labels i % 10
  std::vector<uint8_t> labels(40);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(i % 10);
  labels[17] = 200;  // was 7; 7 still has images (indices 7, 27, 37)
  test::write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes(kIdxMagicLabels, {40}, labels));
  expect_idx_error([&] { load_split(dir.str(), "train"); },
                   "train-labels-idx1-ubyte: label 200 at index 17, but no image has label 10");
  // Given the class count (the model's, or --classes), the labels need only be below it.
  EXPECT_EQ(load_split(dir.str(), "train", 201).num_classes, 201);
  expect_idx_error([&] { load_split(dir.str(), "train", 10); },
                   "label 200 at index 17 is out of range for 10 classes");
  // A class that lost its only image is a gap too, even with the largest label intact.
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(i % 10 == 4 ? 3 : i % 10);
  test::write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes(kIdxMagicLabels, {40}, labels));
  expect_idx_error([&] { load_split(dir.str(), "train"); },
                   "label 5 at index 5, but no image has label 4");
}

TEST(Dataset, RealMnist) {
  const Dataset train = load_split(test::mnist_dir(), "train");
  const Dataset test = load_split(test::mnist_dir(), "test", train.num_classes);
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.name, "mnist/train");
  // Known MNIST facts: the first training label is 5, the first test label is 7.
  EXPECT_EQ(train.labels[0].item<int64_t>(), 5);
  EXPECT_EQ(test.labels[0].item<int64_t>(), 7);
  EXPECT_EQ(at::bincount(train.labels)[1].item<int64_t>(), 6742);
}

TEST(Dataset, RealFashionMnistGzip) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";  // Debian dataset-fashion-mnist
  const Dataset train = load_split(dir, "train");
  const Dataset test = load_split(dir, "test", train.num_classes);
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.images.size(2), 28);
  EXPECT_EQ(at::bincount(test.labels)[0].item<int64_t>(), 1000);  // balanced: 1000 per class
}

}  // namespace
}  // namespace adgap
