// The public API (adgap/adgap.h, adgap/batch.h) as a program that links the library uses it:
// loading with the tuned defaults, heatmaps and detections of in-memory images and files, the
// JSON of a result, batches with broken files, resumed and sharded runs, and a library that
// leaves the process as it found it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "adgap/adgap.h"
#include "adgap/batch.h"
#include "adgap/detect/detector.h"
#include "adgap/eval/matching.h"
#include "adgap/io/image.h"
#include "adgap/io/limits.h"
#include "adgap/methods/cam.h"
#include "scene_images.h"
#include "trained.h"

namespace adgap {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ImageView view_of(const cv::Mat& m) { return {m.data, m.cols, m.rows, m.channels(), m.step[0]}; }

// The test model has no reader: detection with it is asked for on purpose (reader "none").
Options reads_itself() {
  Options o;
  o.reader = "none";
  return o;
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(test::ensure_trained() + "/model.safetensors");
    dir_ = new test::TempDir();
    scenes_ = new std::vector<test::SceneFile>(test::write_scene_files(dir_->str(), 700, 8));
  }
  static void TearDownTestSuite() {
    delete scenes_;
    delete dir_;
    delete model_;
  }
  static std::string* model_;
  static test::TempDir* dir_;
  static std::vector<test::SceneFile>* scenes_;
};
std::string* ApiTest::model_ = nullptr;
test::TempDir* ApiTest::dir_ = nullptr;
std::vector<test::SceneFile>* ApiTest::scenes_ = nullptr;

TEST_F(ApiTest, DefaultsAreTheTunedSettingsAndFilesAreFoundBesideTheModel) {
  const Options o;
  EXPECT_EQ(o.mode, "paper");
  EXPECT_DOUBLE_EQ(o.k, 3.0);
  EXPECT_LT(o.min_score, 0);  // chosen for the readers in use
  EXPECT_EQ(o.scales, (std::vector<double>{1, 0.5, 0.25}));
  const Localizer loc = Localizer::load(*model_);
  EXPECT_EQ(loc.weights_path(), weights_beside(*model_));
  EXPECT_TRUE(loc.reader_path().empty());  // the test model has no reader beside it
  const Detector& d = loc.detector();
  EXPECT_EQ(d.cfg.heatmap.mode, MapMode::kPaper);
  EXPECT_DOUBLE_EQ(d.cfg.threshold.k, 3.0);
  EXPECT_DOUBLE_EQ(d.cfg.min_score, 0.8);
  EXPECT_DOUBLE_EQ(d.cfg.min_score_alone, 0.97);
  // Its map is there, but detection without a reader is refused with the way to get one,
  // unless asked for on purpose (reader "none").
  const cv::Mat bgr = (*scenes_)[0].scene.image;
  EXPECT_EQ(loc.heatmap(view_of(bgr)).width, bgr.cols);
  try {
    loc.detect(view_of(bgr));
    FAIL() << "detected without a reader";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(*model_ + ": no reader beside it", 0), 0u) << what;
    EXPECT_NE(what.find("adgap train-reader --model " + *model_), std::string::npos) << what;
    EXPECT_NE(what.find("--reader none"), std::string::npos) << what;
  }
  EXPECT_THROW(loc.detect_file((*scenes_)[0].path), std::runtime_error);
  EXPECT_NO_THROW(Localizer::load(*model_, reads_itself()).detect(view_of(bgr)));
}

// Without a model path: $ADGAP_MODEL, else the models beside the executable (here the test
// program's folder, the build tree, whose models/ links to the repository's).
TEST_F(ApiTest, TheModelIsFoundFromTheEnvironmentOrBesideTheExecutable) {
  const std::vector<std::string> dirs = model_search_dirs();
  ASSERT_FALSE(dirs.empty());
  const std::string exe_dir =
      std::filesystem::read_symlink("/proc/self/exe").parent_path().lexically_normal().string();
  EXPECT_EQ(dirs[0], exe_dir + "/models");
  EXPECT_EQ(dirs[1], exe_dir + "/share/adgap/models");
  ::setenv("ADGAP_MODEL", model_->c_str(), 1);
  EXPECT_EQ(find_model(), *model_);
  EXPECT_EQ(Localizer::load("", reads_itself()).model_path(), *model_);
  ::setenv("ADGAP_MODEL", "", 1);  // empty: as if unset
  std::string found;
  for (const std::string& d : dirs) {
    if (std::filesystem::is_regular_file(d + "/model.safetensors")) {
      found = d + "/model.safetensors";
      break;
    }
  }
  if (found.empty()) {
    EXPECT_THROW(find_model(), std::runtime_error);
  } else {
    EXPECT_EQ(find_model(), found);
  }
  ::unsetenv("ADGAP_MODEL");
}

TEST_F(ApiTest, DetectFindsTheDigitsOfScenesAndEqualsTheFileAndBgrPaths) {
  Options o;
  o.mode = "pooled";
  o.k = 2;
  o.min_score = 0.9;
  o.scales = {1};
  o.reader = "none";
  const Localizer loc = Localizer::load(*model_, o);
  MatchCounts total;
  for (const test::SceneFile& f : *scenes_) {
    const cv::Mat bgr = f.scene.image;
    const std::vector<Digit> from_bgr = loc.detect(view_of(bgr));
    const cv::Mat gray = to_gray(bgr);
    const std::vector<Digit> from_gray = loc.detect(view_of(gray));
    const ImageResult from_file = loc.detect_file(f.path);
    ASSERT_TRUE(from_file.ok()) << from_file.error;
    EXPECT_EQ(from_file.width, bgr.cols);
    EXPECT_EQ(from_file.height, bgr.rows);
    ImageResult a, b;
    a.detections = from_bgr;
    b.detections = from_gray;
    EXPECT_EQ(to_json(a), to_json(b));
    a.path = from_file.path;
    a.width = bgr.cols;
    a.height = bgr.rows;
    a.numbers = read_numbers(a.detections, view_of(bgr));
    EXPECT_EQ(to_json(a), to_json(from_file));
    for (const Number& n : a.numbers) EXPECT_FALSE(n.separators.empty());  // read with the image
    total += match_detections(to_detections(from_bgr), f.scene.digits);
  }
  // The 1-epoch test model on these 8 scenes (one scale, pooled maps, as the detection test of
  // test_detect.cpp, which measures 0.87 recall on 30 scenes): at least 3 in 4 found and read.
  EXPECT_GE(total.recall(), 0.75) << total.to_json().dump();
  EXPECT_GE(total.reading_accuracy(), 0.70) << total.to_json().dump();
}

TEST_F(ApiTest, HeatmapHasTheImageSizeAndEqualsThePipelinesMap) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  const cv::Mat bgr = (*scenes_)[0].scene.image;
  const Heatmap h = loc.heatmap(view_of(bgr));
  ASSERT_EQ(h.width, bgr.cols);
  ASSERT_EQ(h.height, bgr.rows);
  const cv::Mat ref = loc.detector().map(to_gray(bgr));
  double worst = 0, hi = 0;
  for (int y = 0; y < h.height; ++y) {
    for (int x = 0; x < h.width; ++x) {
      worst = std::max(worst, std::abs(double(h.at(x, y)) - ref.at<float>(y, x)));
      hi = std::max(hi, double(h.at(x, y)));
    }
  }
  EXPECT_EQ(worst, 0.0);
  EXPECT_FLOAT_EQ(hi, 1.0f);  // normalised
  // A padded row stride gives the same map.
  cv::Mat wide(bgr.rows, bgr.cols + 7, CV_8UC3, cv::Scalar(1, 2, 3));
  bgr.copyTo(wide(cv::Rect(0, 0, bgr.cols, bgr.rows)));
  const Heatmap strided = loc.heatmap(view_of(wide(cv::Rect(0, 0, bgr.cols, bgr.rows))));
  EXPECT_EQ(strided.values, h.values);
}

TEST_F(ApiTest, DetectWithItsMapEqualsDetectAndHeatmapApart) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  for (int i = 0; i < 3; ++i) {
    const cv::Mat bgr = (*scenes_)[i].scene.image;
    Heatmap map;
    const std::vector<Digit> with_map = loc.detect(view_of(bgr), &map);
    ImageResult a, b;
    a.detections = with_map;
    b.detections = loc.detect(view_of(bgr));
    EXPECT_EQ(to_json(a), to_json(b));
    const Heatmap apart = loc.heatmap(view_of(bgr));
    EXPECT_EQ(map.width, apart.width);
    EXPECT_EQ(map.height, apart.height);
    EXPECT_EQ(map.values, apart.values);  // the same computation, bit for bit
  }
}

TEST_F(ApiTest, DecodeImageEqualsTheFileAndRefusesBadBytes) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  const test::SceneFile& f = (*scenes_)[0];
  std::ifstream in(f.path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const DecodedImage img = decode_image(bytes.data(), bytes.size(), "scene.png");
  ASSERT_EQ(img.width, f.scene.image.cols);
  ASSERT_EQ(img.height, f.scene.image.rows);
  ImageResult from_bytes;
  from_bytes.path = f.path;
  from_bytes.width = img.width;
  from_bytes.height = img.height;
  from_bytes.detections = loc.detect(img.view());
  from_bytes.numbers = read_numbers(from_bytes.detections, img.view());
  EXPECT_EQ(to_json(from_bytes), to_json(loc.detect_file(f.path)));
  // Cut, empty, not an image: std::invalid_argument naming the upload.
  for (const std::string& bad : {bytes.substr(0, bytes.size() / 2), std::string(),
                                 std::string("hello, world")}) {
    try {
      decode_image(bad.data(), bad.size(), "upload.png");
      ADD_FAILURE() << "accepted " << bad.size() << " bad bytes";
    } catch (const ImageTooLarge&) {
      ADD_FAILURE() << "not too large";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("upload.png: ", 0), 0u) << e.what();
    }
  }
  // Over the pixel limit: ImageTooLarge, from the header.
  const int64_t before = max_image_pixels();
  set_max_image_pixels(int64_t{img.width} * img.height - 1);
  EXPECT_THROW(decode_image(bytes.data(), bytes.size(), "scene.png"), ImageTooLarge);
  set_max_image_pixels(before);
}

TEST_F(ApiTest, BadImagesOptionsAndFilesAreReportedClearly) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  const uint8_t px[12] = {};
  EXPECT_THROW(loc.detect(ImageView{nullptr, 2, 2, 1, 0}), std::invalid_argument);
  EXPECT_THROW(loc.detect(ImageView{px, 0, 2, 1, 0}), std::invalid_argument);
  EXPECT_THROW(loc.detect(ImageView{px, 2, 2, 2, 0}), std::invalid_argument);
  EXPECT_THROW(loc.heatmap(ImageView{px, 3, 2, 3, 4}), std::invalid_argument);  // stride < row
  Options bad;
  bad.mode = "sparse";
  EXPECT_THROW(Localizer::load(*model_, bad), std::invalid_argument);
  bad = Options{};
  bad.cls = 10;
  EXPECT_THROW(Localizer::load(*model_, bad), std::invalid_argument);
  bad = Options{};
  bad.scales = {};
  EXPECT_THROW(Localizer::load(*model_, bad), std::invalid_argument);
  try {
    Localizer::load(dir_->file("nope/model.safetensors"));
    FAIL() << "loaded a missing model";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope/model.safetensors"), std::string::npos) << e.what();
  }
  test::write_bytes(dir_->file("garbage.png"), {'n', 'o', 't', ' ', 'p', 'n', 'g'});
  const ImageResult r = loc.detect_file(dir_->file("garbage.png"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.path, dir_->file("garbage.png"));
  EXPECT_EQ(r.error, "cannot decode as an image (unknown format or corrupt)");
  EXPECT_EQ(loc.detect_file(dir_->file("missing.png")).error, "no such file");
}

TEST(ImageResultJson, RoundTripsAndRejectsOtherJson) {
  ImageResult r;
  r.path = "a b/c.png";
  r.width = 640;
  r.height = 480;
  r.detections = {{{1, 2, 3, 4}, 7, 0.5f}, {{10, 20, 30, 40}, 1, 0.96875f}};
  r.numbers = {{{1, 2, 39, 58}, "71", {0, 1}, 0.484375f}};
  EXPECT_EQ(to_json(r),
            R"({"path":"a b/c.png","width":640,"height":480,"detections":[{"box":[1,2,3,4],)"
            R"("label":7,"score":0.5},{"box":[10,20,30,40],"label":1,"score":0.96875}],)"
            R"("numbers":[{"box":[1,2,39,58],"text":"71","digits":[0,1],"score":0.484375}]})");
  EXPECT_EQ(to_json(image_result_from_json(to_json(r))), to_json(r));
  // Read with the image, a number carries its separators; they survive the round trip.
  r.numbers[0].separators = "7.1";
  EXPECT_NE(to_json(r).find(R"("score":0.484375,"separators":"7.1"})"), std::string::npos)
      << to_json(r);
  EXPECT_EQ(image_result_from_json(to_json(r)).numbers[0].separators, "7.1");
  EXPECT_EQ(to_json(image_result_from_json(to_json(r))), to_json(r));
  ImageResult e;
  e.path = "x.png";
  e.error = "empty file";
  EXPECT_EQ(to_json(e), R"({"path":"x.png","error":"empty file"})");
  EXPECT_EQ(image_result_from_json(to_json(e)).error, "empty file");
  // A line written before numbers existed still reads.
  EXPECT_EQ(
      image_result_from_json(R"({"path":"p","width":1,"height":1,"detections":[]})").numbers.size(),
      0u);
  EXPECT_THROW(image_result_from_json("[1, 2]"), std::invalid_argument);
  EXPECT_THROW(image_result_from_json(R"({"path":"x.png","width":3})"), std::invalid_argument);
  EXPECT_THROW(image_result_from_json(R"({"path":"x.pn)"), std::invalid_argument);
  // Numbers out of int's or float's range, or of the wrong kind, are refused, not converted
  // (a converted 1e99 is undefined behaviour).
  for (const char* line :
       {R"({"path":"x","width":1e99,"height":3,"detections":[]})",
        R"({"path":"x","width":3,"height":4294967296,"detections":[]})",
        R"({"path":"x","width":3,"height":3,"detections":[{"box":[0,0,1,1.5],"label":1,"score":0.5}]})",
        R"({"path":"x","width":3,"height":3,"detections":[{"box":[0,0,1],"label":1,"score":0.5}]})",
        R"({"path":"x","width":3,"height":3,"detections":[{"box":[0,0,1,1],"label":1,"score":1e300}]})",
        R"({"path":"x","width":3,"height":3,"detections":[],"numbers":[{"box":[0,0,1,1],"text":"1","digits":[1e99],"score":0.5}]})"}) {
    EXPECT_THROW(image_result_from_json(line), std::invalid_argument) << line;
  }
}

TEST(Numbers, ReadNumbersGroupsDigitsOfOneLine) {
  const std::vector<Digit> digits = {
      {{40, 10, 18, 30}, 5, 0.5f}, {{10, 11, 18, 30}, 2, 1.0f}, {{10, 80, 18, 30}, 9, 0.5f}};
  const std::vector<Number> n = read_numbers(digits);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].text, "25");
  EXPECT_EQ(n[0].digits, (std::vector<int>{1, 0}));
  EXPECT_EQ(n[0].box.x, 10);
  EXPECT_EQ(n[0].box.width, 48);
  EXPECT_FLOAT_EQ(n[0].score, 0.5f);
  EXPECT_EQ(n[1].text, "9");
}

TEST(Batch, PathListsAndShards) {
  test::TempDir dir;
  std::ofstream(dir.file("list.txt")) << "a.png\r\n\n  \nb c.png\nd.png";
  EXPECT_EQ(read_path_list(dir.file("list.txt")),
            (std::vector<std::string>{"a.png", "b c.png", "d.png"}));
  EXPECT_THROW(read_path_list(dir.file("none.txt")), std::runtime_error);
  // Binary data is not a list of paths (results name every path in JSON, which is UTF-8).
  std::ofstream(dir.file("bin.txt")) << "a.png\n\xf7\x01\xff.png\n";
  try {
    read_path_list(dir.file("bin.txt"));
    ADD_FAILURE() << "binary list accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.file("bin.txt") + ": line 2 is not a path (binary data, or not UTF-8 text)");
  }
  std::ofstream(dir.file("utf8.txt")) << "caf\xc3\xa9.png\n";
  EXPECT_EQ(read_path_list(dir.file("utf8.txt")), (std::vector<std::string>{"caf\xc3\xa9.png"}));
  const std::vector<std::string> all = {"0", "1", "2", "3", "4", "5", "6"};
  EXPECT_EQ(shard_of(all, 0, 3), (std::vector<std::string>{"0", "3", "6"}));
  EXPECT_EQ(shard_of(all, 2, 3), (std::vector<std::string>{"2", "5"}));
  EXPECT_EQ(shard_of(all, 0, 1), all);
  EXPECT_THROW(shard_of(all, 3, 3), std::invalid_argument);
  EXPECT_THROW(shard_of(all, 0, 0), std::invalid_argument);
}

TEST_F(ApiTest, ABatchWithBrokenFilesInTheMiddleLosesOnlyThoseFiles) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  test::write_bytes(dir_->file("empty.png"), {});
  test::write_bytes(dir_->file("cut.png"), {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0});
  std::vector<std::string> paths;
  for (size_t i = 0; i < scenes_->size(); ++i) {
    paths.push_back((*scenes_)[i].path);
    if (i == 2) paths.push_back(dir_->file("empty.png"));
    if (i == 4) paths.push_back(dir_->file("missing.png"));
    if (i == 5) paths.push_back(dir_->file("cut.png"));
  }
  BatchOptions o;
  o.jsonl = dir_->file("batch.jsonl");
  std::vector<ImageResult> seen;
  int with_image = 0;
  const BatchSummary s = detect_batch(loc, paths, o, [&](const ImageResult& r, const ImageView* v) {
    seen.push_back(r);
    if (v) {
      ++with_image;
      EXPECT_EQ(v->width, r.width);
      EXPECT_EQ(v->height, r.height);
    }
  });
  EXPECT_EQ(s.images, static_cast<int64_t>(paths.size()));
  EXPECT_EQ(s.failed, 3);
  EXPECT_EQ(s.resumed, 0);
  EXPECT_EQ(with_image, static_cast<int>(scenes_->size()));
  ASSERT_EQ(seen.size(), paths.size());
  std::string expected;
  for (size_t i = 0; i < paths.size(); ++i) {
    const ImageResult alone = loc.detect_file(paths[i]);  // the same image run by itself
    EXPECT_EQ(to_json(seen[i]), to_json(alone)) << paths[i];
    expected += to_json(alone) + "\n";
  }
  EXPECT_EQ(slurp(o.jsonl), expected);
  EXPECT_EQ(seen[3].error, "empty file");
  EXPECT_EQ(seen[6].error, "no such file");
}

TEST_F(ApiTest, AResumedRunEqualsAnUninterruptedOne) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  std::vector<std::string> paths;
  for (const test::SceneFile& f : *scenes_) paths.push_back(f.path);
  paths.push_back(dir_->file("missing.png"));
  BatchOptions whole;
  whole.jsonl = dir_->file("whole.jsonl");
  detect_batch(loc, paths, whole);
  const std::string full = slurp(whole.jsonl);
  // A run killed after three images, in the middle of writing the fourth line.
  std::string cut;
  size_t pos = 0;
  for (int line = 0; line < 3; ++line) pos = full.find('\n', pos) + 1;
  cut = full.substr(0, pos) + full.substr(pos, 25);
  BatchOptions again = whole;
  again.jsonl = dir_->file("resumed.jsonl");
  again.resume = true;
  std::ofstream(again.jsonl, std::ios::binary) << cut;
  int calls = 0;
  const BatchSummary s =
      detect_batch(loc, paths, again, [&](const ImageResult&, const ImageView*) { ++calls; });
  EXPECT_EQ(s.resumed, 3);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(calls, static_cast<int>(paths.size()));  // resumed results are handed out too
  EXPECT_EQ(slurp(again.jsonl), full);
  // Resuming a finished run does nothing more.
  EXPECT_EQ(detect_batch(loc, paths, again).resumed, static_cast<int64_t>(paths.size()));
  EXPECT_EQ(slurp(again.jsonl), full);
}

TEST_F(ApiTest, WorkersGiveTheSameResultsInTheSameOrder) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  test::write_bytes(dir_->file("junk.png"), {'x'});
  std::vector<std::string> paths;
  for (const test::SceneFile& f : *scenes_) {
    paths.push_back(f.path);
    paths.push_back(f.path);  // twice: duplicates keep their places
  }
  paths.insert(paths.begin() + 3, dir_->file("junk.png"));
  paths.push_back(dir_->file("missing.png"));
  BatchOptions one;
  one.jsonl = dir_->file("w1.jsonl");
  detect_batch(loc, paths, one);
  for (int workers : {2, 3}) {
    BatchOptions many = one;
    many.jsonl = dir_->file("w" + std::to_string(workers) + ".jsonl");
    many.workers = workers;
    std::vector<std::string> order;
    int images = 0;
    const BatchSummary s =
        detect_batch(loc, paths, many, [&](const ImageResult& r, const ImageView* v) {
          order.push_back(r.path);
          images += v != nullptr;
        });
    EXPECT_EQ(order, paths) << workers;
    EXPECT_EQ(images, static_cast<int>(2 * scenes_->size()));
    EXPECT_EQ(s.failed, 2);
    EXPECT_EQ(slurp(many.jsonl), slurp(one.jsonl)) << workers << " workers";
  }
  // Resumed with workers: the same file again.
  const std::string full = slurp(one.jsonl);
  const size_t cut = full.find('\n', full.find('\n') + 1) + 1;  // two lines kept
  BatchOptions again = one;
  again.jsonl = dir_->file("w-resumed.jsonl");
  again.resume = true;
  again.workers = 2;
  std::ofstream(again.jsonl, std::ios::binary) << full.substr(0, cut);
  EXPECT_EQ(detect_batch(loc, paths, again).resumed, 2);
  EXPECT_EQ(slurp(again.jsonl), full);
  BatchOptions none = one;
  none.workers = 0;
  EXPECT_THROW(detect_batch(loc, paths, none), std::invalid_argument);
}

TEST_F(ApiTest, ShardsTogetherCoverTheListOnce) {
  const Localizer loc = Localizer::load(*model_, reads_itself());
  std::vector<std::string> paths;
  for (const test::SceneFile& f : *scenes_) paths.push_back(f.path);
  std::map<std::string, std::string> got;
  for (int i = 0; i < 3; ++i) {
    BatchOptions o;
    o.shard_index = i;
    o.shard_count = 3;
    detect_batch(loc, paths, o, [&](const ImageResult& r, const ImageView*) {
      EXPECT_TRUE(got.emplace(r.path, to_json(r)).second) << r.path << " in two shards";
    });
  }
  ASSERT_EQ(got.size(), paths.size());
  for (const std::string& p : paths) EXPECT_EQ(got[p], to_json(loc.detect_file(p)));
}

TEST_F(ApiTest, TheLibraryLeavesTheProcessAsItFoundIt) {
  test::Trained t = test::load_trained();
  // Train mode survives a heatmap, a detection and an importance pass.
  t.model.net->train();
  Localizer loc = Localizer::load(*model_, reads_itself());
  const Detector& d = loc.detector();
  LeNet net = d.model.net;
  net->train();
  loc.detect(view_of((*scenes_)[0].scene.image));
  EXPECT_TRUE(net->is_training());
  // The random stream is the caller's: CAM's seeded training does not reset it.
  at::manual_seed(123);
  const at::Tensor expected = at::randn({4});
  at::manual_seed(123);
  const Dataset some = head(load_split(test::mnist_dir(), "test", 10), 300);
  FilterImportance imp = t.importance;
  train_cam(t.model.net, some, imp, /*epochs=*/1);
  EXPECT_TRUE(at::equal(at::randn({4}), expected));
  EXPECT_TRUE(t.model.net->is_training());
  // OpenCV's log level is restored after a file that would make it talk.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_INFO);
  EXPECT_THROW(load_bgr(dir_->file("garbage.png")), ImageError);
  EXPECT_EQ(cv::utils::logging::getLogLevel(), cv::utils::logging::LOG_LEVEL_INFO);
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_WARNING);
}

// The example, as a user runs it: no model given, so adgap's own models (models/) read.
TEST_F(ApiTest, TheExampleProgramPrintsWhatTheLibraryReturns) {
  const Localizer loc = Localizer::load();
  const test::SceneFile& f = (*scenes_)[1];
  const std::string out = dir_->file("example.txt");
  const std::string cmd =
      "env -u ADGAP_MODEL " + std::string(ADGAP_EXAMPLE) + " " + f.path + " > " + out + " 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(out);
  const ImageResult r = loc.detect_file(f.path);
  ASSERT_FALSE(r.detections.empty());
  std::istringstream lines(slurp(out));
  std::string first;
  std::getline(lines, first);
  EXPECT_EQ(first, to_json(r));
  int digits = 0;
  for (std::string l; std::getline(lines, l);) ++digits;
  EXPECT_EQ(digits, static_cast<int>(r.detections.size()));
  // A file it cannot read: exit 1 and the reason.
  const std::string bad = std::string(ADGAP_EXAMPLE) + " " + loc.model_path() + " " +
                          dir_->file("missing.png") + " > " + out + " 2>&1";
  const int bad_status = std::system(bad.c_str());
  EXPECT_EQ(WEXITSTATUS(bad_status), 1);
  EXPECT_NE(slurp(out).find("missing.png: no such file"), std::string::npos) << slurp(out);
}

}  // namespace
}  // namespace adgap
