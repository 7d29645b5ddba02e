// The adgap CLI as a user meets it: help, bad arguments, missing or broken files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "trained.h"

namespace adgap {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

CliRun run_cli(const std::string& args) {
  test::TempDir dir;
  const std::string log = dir.file("out.txt");
  const std::string cmd = std::string(ADGAP_CLI) + " " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(Cli, HelpExitsZeroForEveryCommand) {
  for (const char* c :
       {"--help", "train --help", "eval --help", "demo --help", "weights --help", "heatmap --help",
        "detect --help", "eval-scenes --help", "bench-loc --help", "train-reader --help"}) {
    const CliRun r = run_cli(c);
    EXPECT_EQ(r.code, 0) << c << ": " << r.out;
    EXPECT_NE(r.out.find("usage: adgap"), std::string::npos) << c;
  }
}

TEST(Cli, NoCommandOrUnknownCommandIsAUsageError) {
  EXPECT_EQ(run_cli("").code, 2);
  const CliRun r = run_cli("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos) << r.out;
}

TEST(Cli, BadOptionValuesAreRejectedUpFront) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"train --epochs 0", "--epochs: 0 is out of range [1, 1000]"},
      {"train --epochs ten", "'ten' is not a valid integer"},
      {"train --lr", "--lr needs a value"},
      {"train --bogus", "unknown option '--bogus'"},
      {"eval --split validation", "neither 'train' nor 'test'"},
      {"demo stray", "unexpected argument 'stray'"},
  };
  for (const Case& c : cases) {
    const CliRun r = run_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << ": " << r.out;
    EXPECT_EQ(lines(r.out), 1u) << c.args << ": " << r.out;
  }
}

TEST(Cli, MissingDataOrModelGivesOneLineNamingTheFile) {
  test::TempDir dir;
  CliRun r = run_cli("train --data " + dir.file("nowhere") + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("nowhere") + "/train-images-idx3-ubyte: not found"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;

  r = run_cli("eval --model " + dir.file("none.pt"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("none.pt") + ": model file not found"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;

  test::write_bytes(dir.file("junk.pt"), {'n', 'o', 't', ' ', 'a', ' ', 'm', 'o', 'd', 'e', 'l'});
  r = run_cli("eval --model " + dir.file("junk.pt") + " --data " + test::mnist_dir());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("junk.pt") + ": not a readable model file"), std::string::npos)
      << r.out;
}

TEST(Cli, TruncatedDataFileIsReportedAndNothingIsWritten) {
  test::TempDir dir;
  test::write_split(dir.str(), "train", 10, 28, 28, 10);
  test::write_split(dir.str(), "t10k", 10, 28, 28, 10);
  std::vector<uint8_t> bytes = test::read_bytes(dir.file("train-images-idx3-ubyte"));
  bytes.resize(bytes.size() - 100);
  test::write_bytes(dir.file("train-images-idx3-ubyte"), bytes);
  const CliRun r = run_cli("train --data " + dir.str() + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("train-images-idx3-ubyte: payload is 7740 bytes but the header declares "
                       "7840 (file truncated)"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

TEST(Cli, TrainsAndEvaluatesATinyRunEndToEnd) {
  test::TempDir dir;
  CliRun r = run_cli("train --limit 600 --epochs 1 --batch 100 --quiet --out " + dir.file("run") +
                     " --data " + test::mnist_dir());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("images per second"), std::string::npos) << r.out;
  r = run_cli("eval --model " + dir.file("run/model.pt") + " --data " + test::mnist_dir() +
              " --json " + dir.file("e.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("confusion"), std::string::npos);
  std::ifstream in(dir.file("e.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("\"count\": 10000"), std::string::npos) << ss.str();
}

// PNG signature and an IHDR declaring w x h (CRC left zero: the size check comes first).
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                            0,    0,   0,   13,  'I',  'H',  'D',  'R'};
  test::put_be32(b, w);
  test::put_be32(b, h);
  for (uint8_t v : {8, 0, 0, 0, 0, 0, 0, 0, 0}) b.push_back(v);
  return b;
}

std::string model_args() {
  const std::string dir = test::ensure_trained();
  return " --model " + dir + "/model.pt --weights " + dir + "/weights.json";
}

TEST(Cli, BadImagesGiveOneLineAndWriteNothing) {
  test::TempDir dir;
  cv::imwrite(dir.file("good.png"), cv::Mat(40, 50, CV_8U, cv::Scalar(30)));
  test::write_bytes(dir.file("empty.png"), {});
  test::write_bytes(dir.file("garbage.png"),
                    {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  test::write_bytes(dir.file("zero.png"), png_header(0, 0));
  test::write_bytes(dir.file("huge.png"), png_header(200000, 300000));
  const struct {
    const char* file;
    const char* says;
  } cases[] = {
      {"empty.png", "empty.png: empty file"},
      {"garbage.png", "garbage.png: cannot decode as an image"},
      {"zero.png", "zero.png: declares a 0x0 image"},
      {"huge.png", "huge.png: declares 200000x300000 pixels, over the limit"},
      {"missing.png", "missing.png: no such file"},
  };
  for (const char* cmd : {"heatmap", "detect"}) {
    for (const auto& c : cases) {
      // The good image comes first: nothing may be written for it either.
      const CliRun r = run_cli(std::string(cmd) + model_args() + " --out " + dir.file("out") + " " +
                               dir.file("good.png") + " " + dir.file(c.file));
      EXPECT_EQ(r.code, 1) << cmd << " " << c.file << ": " << r.out;
      EXPECT_NE(r.out.find(c.says), std::string::npos) << cmd << ": " << r.out;
      EXPECT_EQ(lines(r.out), 1u) << cmd << ": " << r.out;
      EXPECT_FALSE(std::filesystem::exists(dir.file("out"))) << cmd << " " << c.file;
    }
  }
}

TEST(Cli, HeatmapWritesOverlayMaskAndExactSizeRawMap) {
  test::TempDir dir;
  cv::Mat img(83, 157, CV_8UC3, cv::Scalar(20, 20, 20));
  cv::putText(img, "42", {20, 60}, cv::FONT_HERSHEY_SIMPLEX, 1.4, cv::Scalar(230, 230, 230), 3);
  cv::imwrite(dir.file("img.png"), img);
  for (const char* mode : {"paper", "pooled", "dense"}) {
    const CliRun r = run_cli(std::string("heatmap") + model_args() + " --mode " + mode +
                             " --raw --out " + dir.file("out") + " " + dir.file("img.png"));
    ASSERT_EQ(r.code, 0) << r.out;
    const cv::Mat raw = cv::imread(dir.file("out/img.heat16.png"), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(raw.size(), img.size()) << mode;
    EXPECT_EQ(raw.depth(), CV_16U) << mode;
    double hi;
    cv::minMaxLoc(raw, nullptr, &hi);
    EXPECT_EQ(hi, 65535.0) << mode;  // min-max normalised
    const cv::Mat mask = cv::imread(dir.file("out/img.mask.png"), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(mask.size(), img.size());
    EXPECT_GT(cv::countNonZero(mask), 0);
    EXPECT_EQ(cv::imread(dir.file("out/img.overlay.png")).size(), img.size());
  }
  for (const char* method : {"grad-cam", "sobel", "adgap-paper"}) {
    const CliRun r = run_cli(std::string("heatmap") + model_args() + " --method " + method +
                             " --raw --out " + dir.file("m") + " " + dir.file("img.png"));
    ASSERT_EQ(r.code, 0) << method << ": " << r.out;
    EXPECT_EQ(cv::imread(dir.file("m/img.heat16.png"), cv::IMREAD_UNCHANGED).size(), img.size())
        << method;
  }
  const CliRun no_method =
      run_cli(std::string("detect") + model_args() + " --method magic-cam " + dir.file("img.png"));
  EXPECT_EQ(no_method.code, 2);
  EXPECT_NE(no_method.out.find("method 'magic-cam' is not one of"), std::string::npos)
      << no_method.out;
  const CliRun bad =
      run_cli(std::string("heatmap") + model_args() + " --mode sparse " + dir.file("img.png"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("map mode 'sparse'"), std::string::npos) << bad.out;
}

TEST(Cli, WeightsWritesImportanceJson) {
  test::TempDir dir;
  const CliRun r =
      run_cli("weights --model " + test::ensure_trained() + "/model.pt --limit 300 --data " +
              test::mnist_dir() + " --out " + dir.file("w.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(dir.file("w.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["samples"], 300);
  EXPECT_EQ(j["split"], "mnist/train");
  EXPECT_EQ(j["loss_rise"].size(), 16u);
  EXPECT_EQ(j["class_loss_rise"].size(), 10u);
}

TEST(Cli, DetectWritesTheJsonSchema) {
  test::TempDir dir;
  cv::Mat img(120, 200, CV_8UC3, cv::Scalar(15, 15, 15));
  cv::imwrite(dir.file("scene.png"), img);
  const CliRun r = run_cli(std::string("detect") + model_args() + " --out " + dir.file("out") +
                           " --json " + dir.file("d.json") + " " + dir.file("scene.png"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(dir.file("d.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_TRUE(j.contains("model"));
  ASSERT_EQ(j["images"].size(), 1u);
  EXPECT_EQ(j["images"][0]["path"], dir.file("scene.png"));
  EXPECT_EQ(j["images"][0]["width"], 200);
  EXPECT_EQ(j["images"][0]["height"], 120);
  EXPECT_TRUE(j["images"][0]["detections"].is_array());
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/scene.detect.png")));
}

}  // namespace
}  // namespace adgap
