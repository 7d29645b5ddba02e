// The adgap CLI as a user meets it: help, bad arguments, missing or broken files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "adgap/adgap.h"
#include "adgap/model/model_file.h"
#include "scene_images.h"
#include "trained.h"

namespace adgap {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

struct CliRunApart {
  int code;
  std::string out, err;  // stdout, stderr
};

CliRunApart run_cli_apart(const std::string& args) {
  test::TempDir dir;
  const std::string cmd = std::string(ADGAP_CLI) + " " + args + " > " + dir.file("out") +
                          " 2> " + dir.file("err");
  const int status = std::system(cmd.c_str());
  std::ifstream out(dir.file("out")), err(dir.file("err"));
  std::stringstream o, e;
  o << out.rdbuf();
  e << err.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, o.str(), e.str()};
}

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
  for (const char* c : {"--help", "train --help", "eval --help", "demo --help", "weights --help",
                        "heatmap --help", "detect --help", "eval-scenes --help", "bench-loc --help",
                        "train-reader --help", "scenes --help", "read-cells --help"}) {
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

  r = run_cli("eval --model " + dir.file("none.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("none.safetensors") + ": model file not found"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;

  test::write_bytes(dir.file("junk.safetensors"), {'n', 'o', 't', ' ', 'a', ' ', 'm', 'o', 'd', 'e', 'l'});
  r = run_cli("eval --model " + dir.file("junk.safetensors") + " --data " + test::mnist_dir());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("junk.safetensors") + ": not a safetensors file"), std::string::npos)
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
  r = run_cli("eval --model " + dir.file("run/model.safetensors") + " --data " + test::mnist_dir() +
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
  // The test model has no reader: it reads the crops itself, on purpose.
  return " --model " + dir + "/model.safetensors --weights " + dir + "/weights.json --reader none";
}

TEST(Cli, BadImagesGiveOneLineAndWriteNothing) {
  test::TempDir dir;
  cv::imwrite(dir.file("good.png"), cv::Mat(40, 50, CV_8U, cv::Scalar(30)));
  test::write_bytes(dir.file("empty.png"), {});
  test::write_bytes(dir.file("garbage.png"),
                    {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  test::write_bytes(dir.file("zero.png"), png_header(0, 0));
  test::write_bytes(dir.file("huge.png"), png_header(200000, 300000));
  // Damaged PNGs and JPEGs that OpenCV would decode in part (libpng and libjpeg printing their
  // own lines): a cut file, a flipped byte in the image data, a size raised past the data.
  cv::Mat noise(60, 80, CV_8UC3);
  cv::randu(noise, 0, 256);
  std::vector<uint8_t> png;
  cv::imencode(".png", noise, png);
  test::write_bytes(dir.file("cut.png"), std::vector<uint8_t>(png.begin(), png.end() - 200));
  std::vector<uint8_t> flipped = png;
  flipped[png.size() / 2] ^= 0x40;
  test::write_bytes(dir.file("crc.png"), flipped);
  std::vector<uint8_t> taller = png;
  taller[22] = 0x10;  // height 60 -> 4156 (IHDR's CRC made right again)
  const uLong ihdr_crc = crc32(crc32(0L, Z_NULL, 0), &taller[12], 17);
  for (int k = 0; k < 4; ++k) taller[29 + k] = static_cast<uint8_t>(ihdr_crc >> (24 - 8 * k));
  test::write_bytes(dir.file("taller.png"), taller);
  std::vector<uint8_t> jpg;
  cv::imencode(".jpg", noise, jpg);
  test::write_bytes(dir.file("cut.jpg"), std::vector<uint8_t>(jpg.begin(), jpg.end() - 300));
  const struct {
    const char* file;
    const char* says;
  } cases[] = {
      {"empty.png", "empty.png: empty file"},
      {"garbage.png", "garbage.png: cannot decode as an image"},
      {"zero.png", "zero.png: declares a 0x0 image"},
      {"huge.png", "huge.png: declares 200000x300000 pixels, over the limit"},
      {"missing.png", "missing.png: no such file"},
      {"cut.png", "cut.png: truncated PNG"},
      {"crc.png", "crc.png: corrupt PNG (chunk IDAT at byte "},
      {"taller.png", "taller.png: PNG image data ends early"},
      {"cut.jpg", "cut.jpg: truncated JPEG (no end-of-image marker)"},
  };
  for (const auto& c : cases) {
    // heatmap checks every image first: nothing is written, not even for the good one.
    const CliRun r = run_cli(std::string("heatmap") + model_args() + " --out " + dir.file("out") +
                             " " + dir.file("good.png") + " " + dir.file(c.file));
    EXPECT_EQ(r.code, 1) << c.file << ": " << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
    EXPECT_EQ(lines(r.out), 1u) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir.file("out"))) << c.file;
    // detect is a batch: the bad file becomes an error record, one line on stderr, exit 3.
    const std::string json = dir.file("d.json");
    const CliRun d =
        run_cli(std::string("detect") + model_args() + " --quiet --out " + dir.file("dout") +
                " --json " + json + " " + dir.file("good.png") + " " + dir.file(c.file));
    EXPECT_EQ(d.code, 3) << c.file << ": " << d.out;
    EXPECT_NE(d.out.find("adgap detect: " + dir.file(c.file)), std::string::npos) << d.out;
    EXPECT_NE(d.out.find(c.says), std::string::npos) << d.out;
    std::ifstream in(json);
    const nlohmann::json j = nlohmann::json::parse(in);
    ASSERT_EQ(j["images"].size(), 2u);
    EXPECT_EQ(j["images"][0]["width"], 50);
    EXPECT_EQ(j["images"][1]["path"], dir.file(c.file));
    EXPECT_FALSE(j["images"][1]["error"].get<std::string>().empty());
    EXPECT_FALSE(j["images"][1].contains("detections"));
  }
}

// The pixel limit is checked from the header, before decoding, and can be lowered.
TEST(Cli, MaxPixelsRefusesLargerImagesBeforeDecoding) {
  test::TempDir dir;
  cv::imwrite(dir.file("img.png"), cv::Mat(40, 50, CV_8U, cv::Scalar(30)));  // 2000 pixels
  CliRun r = run_cli(std::string("heatmap") + model_args() + " --max-pixels 1999 --out " +
                     dir.file("out") + " " + dir.file("img.png"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("img.png: declares 50x40 pixels, over the limit of 1999"), std::string::npos)
      << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
  r = run_cli(std::string("heatmap") + model_args() + " --max-pixels 2000 --out " +
              dir.file("out") + " " + dir.file("img.png"));
  EXPECT_EQ(r.code, 0) << r.out;
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
      run_cli("weights --model " + test::ensure_trained() + "/model.safetensors --limit 300 --data " +
              test::mnist_dir() + " --out " + dir.file("w.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(dir.file("w.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["samples"], 300);
  EXPECT_EQ(j["split"], "mnist/train");
  EXPECT_EQ(j["loss_rise"].size(), 16u);
  EXPECT_EQ(j["class_loss_rise"].size(), 10u);
  // CAM's classifier only when asked; without it `--method cam` says how to make it.
  EXPECT_TRUE(j["cam_weights"].empty());
  EXPECT_EQ(r.out.find("CAM classifier"), std::string::npos) << r.out;
  cv::imwrite(dir.file("img.png"), cv::Mat(40, 50, CV_8U, cv::Scalar(30)));
  const std::string maps = " --model " + test::ensure_trained() + "/model.safetensors --weights " +
                           dir.file("w.json") + " --out " + dir.file("maps") + " ";
  const CliRun no_cam = run_cli("heatmap --method cam" + maps + dir.file("img.png"));
  EXPECT_NE(no_cam.code, 0);
  EXPECT_NE(no_cam.out.find("adgap weights --cam"), std::string::npos) << no_cam.out;
  const CliRun with = run_cli("weights --cam --model " + test::ensure_trained() +
                              "/model.safetensors --limit 300 --data " + test::mnist_dir() + " --out " +
                              dir.file("w.json"));
  ASSERT_EQ(with.code, 0) << with.out;
  EXPECT_NE(with.out.find("CAM classifier"), std::string::npos) << with.out;
  std::ifstream again(dir.file("w.json"));
  EXPECT_EQ(nlohmann::json::parse(again)["cam_weights"].size(), 10u);
  EXPECT_EQ(run_cli("heatmap --method cam" + maps + dir.file("img.png")).code, 0);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A batch of generated scenes with broken files among them, and the list file naming them.
struct BatchFiles {
  test::TempDir dir;
  std::vector<test::SceneFile> scenes;
  std::vector<std::string> paths;  // in list order
  BatchFiles() {
    scenes = test::write_scene_files(dir.str(), 900, 6);
    test::write_bytes(dir.file("broken.png"), {0x89, 'P', 'N', 'G', 0, 0});
    for (size_t i = 0; i < scenes.size(); ++i) {
      paths.push_back(scenes[i].path);
      if (i == 1) paths.push_back(dir.file("broken.png"));
      if (i == 3) paths.push_back(dir.file("gone.png"));
    }
    std::ofstream list(dir.file("list.txt"));
    for (const std::string& p : paths) list << p << "\n";
  }
};

TEST(Cli, DetectWritesTheJsonSchemaAndTheLibrarysResults) {
  BatchFiles b;
  const std::string model = test::ensure_trained() + "/model.safetensors";
  const CliRun r =
      run_cli(std::string("detect") + model_args() + " --out " + b.dir.file("out") + " --json " +
              b.dir.file("d.json") + " " + b.scenes[0].path + " " + b.scenes[1].path);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(b.dir.file("d.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["model"], model);
  ASSERT_EQ(j["images"].size(), 2u);
  Options no_reader;
  no_reader.reader = "none";  // as model_args() asks
  const Localizer loc = Localizer::load(model, no_reader);
  size_t found = 0;
  for (size_t i = 0; i < 2; ++i) {
    const ImageResult lib = loc.detect_file(b.scenes[i].path);
    EXPECT_EQ(j["images"][i], nlohmann::json::parse(to_json(lib)));
    EXPECT_EQ(j["images"][i]["width"], 320);
    EXPECT_EQ(j["images"][i]["height"], 240);
    found += lib.detections.size();
    EXPECT_TRUE(std::filesystem::exists(
        b.dir.file("out/scene-" + std::to_string(900 + i) + ".detect.png")));
  }
  EXPECT_GT(found, 0u);  // scenes with digits: an empty list would not test the schema
}

TEST(Cli, ScenesWritesImagesAndTheirTruth) {
  test::TempDir dir;
  const CliRun r = run_cli("scenes --kind simple --count 3 --seed 900 --data " + test::mnist_dir() +
                           " --out " + dir.file("s"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::vector<test::SceneFile> ref = test::write_scene_files(dir.str(), 900, 3);
  std::ifstream in(dir.file("s/truth.json"));
  const nlohmann::json truth = nlohmann::json::parse(in);
  ASSERT_EQ(truth.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const cv::Mat img = cv::imread(dir.file("s/" + truth[i]["path"].get<std::string>()));
    EXPECT_EQ(cv::norm(img, ref[i].scene.image, cv::NORM_INF), 0.0) << i;
    ASSERT_EQ(truth[i]["digits"].size(), ref[i].scene.digits.size());
    for (size_t k = 0; k < ref[i].scene.digits.size(); ++k) {
      const DigitTruth& t = ref[i].scene.digits[k];
      EXPECT_EQ(truth[i]["digits"][k]["label"], t.label);
      EXPECT_EQ(truth[i]["digits"][k]["box"],
                nlohmann::json({t.box.x, t.box.y, t.box.width, t.box.height}));
    }
  }
  EXPECT_EQ(run_cli("scenes --kind fancy").code, 2);
}

TEST(Cli, ABatchListWithBrokenFilesStreamsJsonlAndExitsThree) {
  BatchFiles b;
  const std::string jsonl = b.dir.file("r.jsonl");
  const CliRun r =
      run_cli(std::string("detect") + model_args() + " --no-images --list " +
              b.dir.file("list.txt") + " --jsonl " + jsonl + " --json " + b.dir.file("all.json"));
  EXPECT_EQ(r.code, 3) << r.out;
  // One error line per broken file, a closing progress line (stderr is not a terminal).
  EXPECT_NE(r.out.find("adgap detect: " + b.dir.file("broken.png") + ": "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("adgap detect: " + b.dir.file("gone.png") + ": no such file"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("images  8/8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8 images (0 resumed), 2 failed"), std::string::npos) << r.out;
  // Each image's line equals the image run alone.
  std::string alone;
  for (const std::string& p : b.paths) {
    const std::string one = b.dir.file("one.jsonl");
    const CliRun single = run_cli(std::string("detect") + model_args() + " --quiet --no-images " +
                                  "--jsonl " + one + " --json " + b.dir.file("one.json") + " " + p);
    const bool bad = p == b.dir.file("broken.png") || p == b.dir.file("gone.png");
    EXPECT_EQ(single.code, bad ? 3 : 0) << single.out;
    alone += slurp(one);
  }
  EXPECT_EQ(slurp(jsonl), alone);
  std::ifstream in(b.dir.file("all.json"));
  EXPECT_EQ(nlohmann::json::parse(in)["images"].size(), b.paths.size());
  // --quiet: no progress, no per-image lines; errors still.
  const CliRun q = run_cli(std::string("detect") + model_args() + " --quiet --no-images --list " +
                           b.dir.file("list.txt") + " --json " + b.dir.file("q.json"));
  EXPECT_EQ(q.code, 3);
  EXPECT_EQ(q.out.find("images  "), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("digits:"), std::string::npos) << q.out;
}

TEST(Cli, ResumeAndShardsGiveTheUninterruptedResults) {
  BatchFiles b;
  const std::string base = std::string("detect") + model_args() + " --quiet --no-images --list " +
                           b.dir.file("list.txt");
  ASSERT_EQ(run_cli(base + " --jsonl " + b.dir.file("full.jsonl")).code, 3);
  const std::string full = slurp(b.dir.file("full.jsonl"));
  // Killed after two images, halfway through the third line.
  const size_t second = full.find('\n', full.find('\n') + 1) + 1;
  std::ofstream(b.dir.file("part.jsonl"), std::ios::binary) << full.substr(0, second + 30);
  std::string loud = base;  // the summary line says how many were resumed (not with --quiet)
  loud.erase(loud.find(" --quiet"), 8);
  const CliRun resumed = run_cli(loud + " --resume --jsonl " + b.dir.file("part.jsonl"));
  EXPECT_EQ(resumed.code, 3) << resumed.out;
  EXPECT_NE(resumed.out.find("8 images (2 resumed), 2 failed"), std::string::npos) << resumed.out;
  EXPECT_EQ(slurp(b.dir.file("part.jsonl")), full);
  // Two shards from standard input cover every image once, with the same results.
  std::set<std::string> lines_of_full, lines_of_shards;
  std::istringstream f(full);
  for (std::string l; std::getline(f, l);) lines_of_full.insert(l);
  for (int i = 0; i < 2; ++i) {
    const std::string out = b.dir.file("s" + std::to_string(i) + ".jsonl");
    const CliRun s =
        run_cli(base.substr(0, base.find(" --list")) + " --list - " + "--shard " +
                std::to_string(i) + "/2 --jsonl " + out + " < " + b.dir.file("list.txt"));
    EXPECT_TRUE(s.code == 0 || s.code == 3) << s.out;
    std::istringstream in(slurp(out));
    for (std::string l; std::getline(in, l);) EXPECT_TRUE(lines_of_shards.insert(l).second) << l;
  }
  EXPECT_EQ(lines_of_shards, lines_of_full);
  // Usage errors stay exit 2.
  EXPECT_EQ(run_cli(base + " --resume").code, 2);
  EXPECT_EQ(run_cli(base + " --shard 2/2").code, 2);
  EXPECT_EQ(run_cli(std::string("detect") + model_args()).code, 2);  // no image at all
}

// "-" is standard output, which then holds the JSON alone; a FIFO is written into; a link
// stays a link and its file gets the JSON; the JSONL stream goes to standard output too.
TEST(Cli, JsonGoesToStdoutAFifoOrThroughALink) {
  BatchFiles b;
  const std::string img = b.paths[0];
  const std::string base = std::string("detect") + model_args() + " --no-images --out " +
                           b.dir.file("o") + " ";
  const CliRunApart r = run_cli_apart(base + "--json - " + img);
  EXPECT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);  // all of stdout is one document
  EXPECT_EQ(doc.at("images").size(), 1u);
  EXPECT_EQ(doc.at("images")[0].at("path"), img);
  EXPECT_NE(r.err.find("1 images (0 resumed), 0 failed"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("-"));

  const CliRunApart l = run_cli_apart(base + "--quiet --json " + b.dir.file("x.json") +
                                      " --jsonl - " + img + " " + b.paths[1]);
  EXPECT_EQ(l.code, 0) << l.err;
  std::istringstream lines(l.out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(nlohmann::json::parse(line).at("path"), b.paths[n]) << line;
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(run_cli(base + "--json - --jsonl - " + img).code, 2);  // two documents: refused
  EXPECT_EQ(run_cli(base + "--jsonl - --resume " + img).code, 1);

  ASSERT_EQ(::mkfifo(b.dir.file("fifo").c_str(), 0600), 0);
  const std::string cat = "cat " + b.dir.file("fifo") + " > " + b.dir.file("from-fifo.json") + " &";
  ASSERT_EQ(std::system(cat.c_str()), 0);
  EXPECT_EQ(run_cli(base + "--quiet --json " + b.dir.file("fifo") + " " + img).code, 0);
  // The reader (cat) may still be copying: wait up to 5 s for the whole document.
  for (int i = 0; i < 250 && !nlohmann::json::accept(slurp(b.dir.file("from-fifo.json"))); ++i) {
    ::usleep(20000);
  }
  EXPECT_EQ(nlohmann::json::parse(slurp(b.dir.file("from-fifo.json"))), doc);
  EXPECT_EQ(std::filesystem::status(b.dir.file("fifo")).type(), std::filesystem::file_type::fifo);

  std::filesystem::create_symlink(b.dir.file("real.json"), b.dir.file("link.json"));
  EXPECT_EQ(run_cli(base + "--quiet --json " + b.dir.file("link.json") + " " + img).code, 0);
  EXPECT_TRUE(std::filesystem::is_symlink(b.dir.file("link.json")));
  EXPECT_EQ(nlohmann::json::parse(slurp(b.dir.file("real.json"))), doc);
}

// A model without a reader is refused for detection with the way to get one; --reader none
// asks for the model's own reading on purpose.
TEST(Cli, DetectionWithoutAReaderIsRefusedUnlessAskedFor) {
  BatchFiles b;
  const std::string dir = test::ensure_trained();
  const CliRun r = run_cli("detect --model " + dir + "/model.safetensors --no-images " + b.paths[0]);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no reader beside it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("adgap train-reader --model"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  EXPECT_EQ(run_cli(std::string("detect") + model_args() + " --quiet --no-images --json " +
                    b.dir.file("x.json") + " " + b.paths[0]).code, 0);
  // train-reader writes beside the model it is given, so it needs one given.
  const CliRun t = run_cli("train-reader --scenes 1");
  EXPECT_EQ(t.code, 2);
  EXPECT_NE(t.out.find("--model FILE is needed"), std::string::npos) << t.out;
}

// A model of the old LibTorch format: one line saying how to convert it; convert makes a
// safetensors model with the same metadata and weights.
TEST(Cli, OldModelFilesAreNamedAndConverted) {
  test::TempDir dir;
  const std::string old = std::string(ADGAP_SOURCE_DIR) + "/tests/data/legacy-small-wide.pt";
  const CliRun r = run_cli("eval --model " + old + " --data " + test::mnist_dir());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(old + ": an adgap file of the old LibTorch format (.pt)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("adgap convert " + old + " NEW.safetensors"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  const CliRun c = run_cli("convert " + old + " " + dir.file("new.safetensors"));
  EXPECT_EQ(c.code, 0) << c.out;
  const LoadedModel was = load_legacy_model(old), now = load_model(dir.file("new.safetensors"));
  EXPECT_EQ(now.meta.to_json(), was.meta.to_json());
  for (const auto& p : was.net->named_parameters()) {
    EXPECT_TRUE(at::equal(p.value(), now.net->named_parameters()[p.key()])) << p.key();
  }
  EXPECT_EQ(run_cli("convert " + old).code, 2);
  EXPECT_EQ(run_cli("convert " + dir.file("none.pt") + " " + dir.file("x.safetensors")).code, 1);
}

// A new user right after building: from an empty directory, with no --model, no ADGAP_MODEL
// and no runs/, detect reads sudoku.png (26 digits) with adgap's own models (models/, found
// beside the executable) and writes nothing there but what it is asked to.
TEST(Cli, DetectWorksFromAnyDirectoryWithTheShippedModels) {
  test::TempDir dir, logs;
  const std::string photo = "/usr/share/doc/opencv-doc/examples/data/sudoku.png";
  const std::string cmd = "cd " + dir.str() + " && env -u ADGAP_MODEL " + std::string(ADGAP_CLI) +
                          " detect --json - --no-images --quiet " + photo + " > " +
                          logs.file("sudoku.json") + " 2> " + logs.file("err.txt");
  const int status = std::system(cmd.c_str());
  const std::string out = slurp(logs.file("sudoku.json"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out << slurp(logs.file("err.txt"));
  const nlohmann::json doc = nlohmann::json::parse(out);
  const std::filesystem::path cli(ADGAP_CLI);
  EXPECT_EQ(doc.at("model"), (cli.parent_path() / "models" / "model.safetensors").string());
  EXPECT_GE(doc.at("images")[0].at("detections").size(), 20u) << out;
  EXPECT_TRUE(std::filesystem::is_empty(dir.str()));
}

}  // namespace
}  // namespace adgap
