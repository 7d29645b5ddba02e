// Atomic writes, safetensors files, the loss CSV and the loss-curve figure.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "adgap/io/atomic_file.h"
#include "adgap/io/png_stream.h"
#include "adgap/io/safetensors.h"
#include "adgap/report/csv.h"
#include "adgap/report/plot.h"
#include "adgap/util/progress.h"
#include "fixtures.h"

namespace adgap {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(AtomicWrite, FailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  test::TempDir dir;
  const std::string p = dir.file("x.txt");
  atomic_write_text(p, "old\n");
  EXPECT_THROW(atomic_write(p,
                            [](const std::string& tmp) {
                              std::ofstream(tmp) << "half";
                              throw std::runtime_error("disk full");
                            }),
               std::runtime_error);
  EXPECT_EQ(slurp(p), "old\n");
  EXPECT_EQ(count_files(dir.str()), 1u);
  atomic_write_text(dir.file("sub/dir/y.txt"), "new");  // parents are created
  EXPECT_EQ(slurp(dir.file("sub/dir/y.txt")), "new");
}

// A link stays a link (the file it points to gets the content), a FIFO is written through
// (not replaced by a regular file), "-" is standard output, a directory is refused.
TEST(AtomicWrite, OnlyRegularFilesAreReplaced) {
  test::TempDir dir;
  namespace fs = std::filesystem;
  atomic_write_text(dir.file("real.json"), "old");
  fs::create_symlink("real.json", dir.file("link.json"));  // relative, as `ln -s` makes
  atomic_write_text(dir.file("link.json"), "new");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("link.json"))));
  EXPECT_EQ(slurp(dir.file("real.json")), "new");
  EXPECT_EQ(count_files(dir.str()), 2u);  // the file, and the link that counts as it; no temporary

  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = slurp(dir.file("fifo")); });
  atomic_write_text(dir.file("fifo"), "through the pipe\n");
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  EXPECT_EQ(fs::status(dir.file("fifo")).type(), fs::file_type::fifo);
  EXPECT_FALSE(writes_in_place(dir.file("fifo")));
  EXPECT_FALSE(writes_in_place("-"));
  EXPECT_TRUE(writes_in_place(dir.file("nothing-yet")));

  testing::internal::CaptureStdout();
  atomic_write_text("-", "to stdout\n");
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "to stdout\n");
  EXPECT_FALSE(fs::exists("-"));

  fs::create_directory(dir.file("d"));
  EXPECT_THROW(atomic_write_text(dir.file("d"), "x"), std::runtime_error);
  EXPECT_TRUE(fs::is_directory(dir.file("d")));
}

SafetensorsFile two_tensors() {
  SafetensorsFile f;
  f.metadata["format"] = "test";
  f.tensors.push_back({"x", {2}, {1.0f, -2.0f}});
  f.tensors.push_back({"y", {1, 3}, {0.5f, 0.25f, 8.0f}});
  return f;
}

// The layout by hand: length, JSON, 8-byte aligned data, IEEE little-endian floats, and a
// CRC-32 that zlib computes the same over the file with its digits as zeros.
TEST(Safetensors, LayoutIsTheFormatsAndRoundTrips) {
  const std::string b = serialize_safetensors(two_tensors());
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  ASSERT_EQ((8 + n) % 8, 0u);
  const std::string header = b.substr(8, n);
  EXPECT_NE(header.find(R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})"),
            std::string::npos) << header;
  EXPECT_NE(header.find(R"("y":{"dtype":"F32","shape":[1,3],"data_offsets":[8,20]})"),
            std::string::npos) << header;
  ASSERT_EQ(b.size(), 8 + n + 20);
  const unsigned char minus_two[4] = {0x00, 0x00, 0x00, 0xc0};  // -2.0f
  EXPECT_EQ(std::memcmp(b.data() + 8 + n + 4, minus_two, 4), 0);
  const size_t at = header.find("\"adgap_crc32\":\"");
  ASSERT_NE(at, std::string::npos);
  const std::string digits = header.substr(at + 15, 8);
  std::string zeroed = b;
  zeroed.replace(8 + at + 15, 8, "00000000");
  char want[9];
  std::snprintf(want, sizeof want, "%08lx",
                crc32(0, reinterpret_cast<const Bytef*>(zeroed.data()), zeroed.size()));
  EXPECT_EQ(digits, want);

  const SafetensorsFile back = parse_safetensors(b, "t.safetensors");
  EXPECT_EQ(back.metadata, two_tensors().metadata);  // the checksum is not handed back
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.at("y", "t").shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(back.at("y", "t").values, (std::vector<float>{0.5f, 0.25f, 8.0f}));
  EXPECT_THROW(back.at("z", "t"), SafetensorsError);
}

// Rewrites the header of a valid file (keeping the data) and re-seals it with a valid CRC:
// what a crafted file can do.
std::string with_header(const std::string& header_json, const std::string& data) {
  std::string h = header_json;
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  out += h + data;
  const size_t at = out.find("\"adgap_crc32\":\"");
  if (at != std::string::npos) {
    out.replace(at + 15, 8, "00000000");
    char crc[9];
    std::snprintf(crc, sizeof crc, "%08lx",
                  crc32(0, reinterpret_cast<const Bytef*>(out.data()), out.size()));
    out.replace(at + 15, 8, crc);
  }
  return out;
}

TEST(Safetensors, CraftedHeadersAreRefusedWithOneLine) {
  const std::string data(20, '\0');
  const std::string meta = R"("__metadata__":{"adgap_crc32":"00000000"})";
  struct Case {
    std::string header, says;
  } cases[] = {
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[3],"data_offsets":[8,20]}})", ""},
      {"{" + meta + R"(,"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}})", "F32 only"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[3],"data_offsets":[8,20]}})", "shape holds 12 bytes"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", "a gap or an overlap"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", "a gap or an overlap"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "cover 8 data bytes but the file holds 20"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,20]}})", "too large"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[-5],"data_offsets":[0,20]}})", "bad tensor entry"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[5],"data_offsets":[0,1e99]}})", "bad tensor entry"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[[[[5]]]],"data_offsets":[0,20]}})", "nests deeper"},
      {"{" + meta + R"(,"x":{"dtype":"F32","shape":[5],"data_offsets":[0,20],"extra":1}})", "not {dtype, shape, data_offsets}"},
      {R"({"x":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}})", "no adgap checksum"},
      {R"({"__metadata__":{"adgap_crc32":"00000000","n":5},"x":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}})", "is not a string"},
      {"[1,2]", "not a JSON object"},
  };
  for (const Case& c : cases) {
    const std::string bytes = with_header(c.header, data);
    if (c.says.empty()) {
      EXPECT_NO_THROW(parse_safetensors(bytes, "f.safetensors")) << c.header;
      continue;
    }
    try {
      parse_safetensors(bytes, "f.safetensors");
      ADD_FAILURE() << "accepted " << c.header;
    } catch (const SafetensorsError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("f.safetensors: ", 0), 0u) << what;
      EXPECT_NE(what.find(c.says), std::string::npos) << c.header << " -> " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  // The length itself: past the end, over the limit, and a file shorter than it.
  std::string b = serialize_safetensors(two_tensors());
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(b.data(), &huge, 8);
  EXPECT_THROW(parse_safetensors(b, "f"), SafetensorsError);
  EXPECT_THROW(parse_safetensors("1234567", "f"), SafetensorsError);
  // A valid CRC of other bytes: the data changed after sealing.
  std::string changed = serialize_safetensors(two_tensors());
  changed.back() ^= 1;
  EXPECT_THROW(parse_safetensors(changed, "f"), SafetensorsError);
}

TEST(PngRowWriter, BandsDecodeToTheImageAndMisuseIsRefused) {
  test::TempDir dir;
  cv::Mat bgr(37, 23, CV_8UC3), gray(37, 23, CV_8U);
  cv::randu(bgr, 0, 256);
  cv::randu(gray, 0, 256);
  for (const cv::Mat& img : {bgr, gray}) {
    const std::string path = dir.file(img.channels() == 3 ? "c.png" : "g.png");
    {
      PngRowWriter w(path, img.cols, img.rows, img.channels());
      for (int y = 0; y < img.rows; y += 10) w.write(img.rowRange(y, std::min(img.rows, y + 10)));
      w.finish();
    }
    const cv::Mat back = cv::imread(path, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(back.size(), img.size());
    ASSERT_EQ(back.type(), img.type());
    EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0.0);
  }
  PngRowWriter w(dir.file("short.png"), 23, 37, 3);
  EXPECT_THROW(w.write(gray.rowRange(0, 5)), std::invalid_argument);  // wrong channels
  w.write(bgr.rowRange(0, 30));
  EXPECT_THROW(w.write(bgr.rowRange(0, 10)), std::invalid_argument);  // past the last row
  EXPECT_THROW(w.finish(), std::runtime_error);                       // 30 of 37 rows
  EXPECT_THROW(PngRowWriter(dir.file("no/such/dir.png"), 5, 5, 1), std::runtime_error);
  EXPECT_THROW(PngRowWriter(dir.file("x.png"), 5, 5, 2), std::invalid_argument);
}

TEST(LossCsv, OneRowPerUpdateWithEpochAndBatch) {
  test::TempDir dir;
  write_loss_csv(dir.file("l.csv"), {2.5f, 1.25f, 0.5f}, /*batches_per_epoch=*/2);
  EXPECT_EQ(slurp(dir.file("l.csv")),
            "epoch,batch,step,loss\n1,1,1,2.500000\n1,2,2,1.250000\n2,1,3,0.500000\n");
}

TEST(LossCurve, RendersAPngAndRejectsAnEmptyCurve) {
  test::TempDir dir;
  LossCurve c;
  for (int i = 0; i < 50; ++i) c.batch_losses.push_back(2.3f / (1 + i));
  c.batches_per_epoch = 10;
  c.epoch_test_acc = {0.9, 0.95, 0.97, 0.98, 0.99};
  plot_loss_curve(dir.file("l.png"), c);
  const cv::Mat img = cv::imread(dir.file("l.png"));
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 1200);
  EXPECT_EQ(img.rows, 700);
  // The curve is drawn: some pixels carry the per-batch colour's dominant blue channel.
  cv::Mat blueish;
  cv::inRange(img, cv::Scalar(200, 140, 80), cv::Scalar(255, 200, 140), blueish);
  EXPECT_GT(cv::countNonZero(blueish), 100);
  EXPECT_THROW(plot_loss_curve(dir.file("e.png"), LossCurve{}), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.png")));
}

TEST(Progress, OffATerminalWritesRareLinesAndAlwaysTheLast) {
  std::ostringstream log;  // not a terminal
  Progress p(&log, 1000, "images");
  for (int i = 1; i <= 999; ++i) p.update(i, "0 failed");
  EXPECT_EQ(log.str(), "");  // well under Progress::kQuietSeconds: nothing yet
  p.update(1000, "2 failed");
  p.finish();
  const std::string text = log.str();
  EXPECT_EQ(text.rfind("images  1000/1000  ", 0), 0u) << text;
  EXPECT_NE(text.find("/s  2 failed\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  std::ostringstream none;
  Progress off(&none, 10, "x", /*enabled=*/false);
  off.update(10);
  Progress quiet_end(&none, 10, "x", /*enabled=*/true, /*report_end=*/false);
  quiet_end.update(10);
  EXPECT_EQ(none.str(), "");
  EXPECT_EQ(Progress::duration_text(42.4), "42 s");
  EXPECT_EQ(Progress::duration_text(200), "3 min 20 s");
  EXPECT_EQ(Progress::duration_text(7260), "2 h 1 min");
}

}  // namespace
}  // namespace adgap
