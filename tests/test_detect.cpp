// Detection: MNIST-style normalisation, IoU matching, generated scenes, and finding the
// digits of scenes with known boxes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "adgap/detect/detect.h"
#include "adgap/detect/numbers.h"
#include "adgap/detect/reader.h"
#include "adgap/eval/cells.h"
#include "adgap/eval/matching.h"
#include "adgap/io/image.h"
#include "adgap/scene/scene.h"
#include "trained.h"

namespace adgap {
namespace {

TEST(MnistNormalize, FitsTwentyPixelsAndCentresByMass) {
  cv::Mat crop(60, 40, CV_8U, cv::Scalar(200));                              // light ground
  cv::rectangle(crop, cv::Rect(15, 10, 6, 40), cv::Scalar(20), cv::FILLED);  // dark bar 6x40
  cv::Mat d;
  cv::Rect ink;
  ASSERT_TRUE(mnist_normalize(crop, /*invert=*/true, d, &ink));
  EXPECT_EQ(ink, cv::Rect(15, 10, 6, 40));
  ASSERT_EQ(d.size(), cv::Size(28, 28));
  EXPECT_EQ(d.type(), CV_32F);
  const cv::Rect box = cv::boundingRect(d > 0.05);
  EXPECT_EQ(box.height, 20);  // the longer side becomes 20 px
  EXPECT_EQ(box.width, 3);    // 6 * 20 / 40
  const cv::Moments m = cv::moments(d);
  EXPECT_NEAR(m.m10 / m.m00, 14.0, 1.0);
  EXPECT_NEAR(m.m01 / m.m00, 14.0, 1.0);
  double hi;
  cv::minMaxLoc(d, nullptr, &hi);
  EXPECT_FLOAT_EQ(static_cast<float>(hi), 1.0f);
  // A flat crop has no strokes.
  EXPECT_FALSE(mnist_normalize(cv::Mat(30, 30, CV_8U, cv::Scalar(90)), false, d));
}

TEST(Matching, IouAndGreedyMatchingByHand) {
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {20, 20, 5, 5}), 0.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  const std::vector<DigitTruth> truth = {{{0, 0, 10, 10}, 3, 0}, {{50, 50, 10, 20}, 7, 1}};
  const std::vector<Detection> dets = {
      {{1, 1, 10, 10}, 3, 0.92f},   // IoU 81/119 with truth 0, right label
      {{0, 0, 10, 10}, 5, 0.95f},   // IoU 1 with truth 0, wrong label: matched first (higher score)
      {{50, 52, 10, 20}, 7, 0.8f},  // IoU 180/220 with truth 1
      {{100, 100, 5, 5}, 1, 0.99f},  // nothing there
  };
  const MatchCounts c = match_detections(dets, truth);
  EXPECT_EQ(c.truths, 2);
  EXPECT_EQ(c.detections, 4);
  EXPECT_EQ(c.matched, 2);
  EXPECT_EQ(c.read, 1);  // truth 0 went to the wrong-label box with the higher score
  EXPECT_DOUBLE_EQ(c.precision(), 0.5);
  EXPECT_DOUBLE_EQ(c.recall(), 1.0);
  EXPECT_DOUBLE_EQ(c.f1(), 2 * 0.5 / 1.5);
  EXPECT_DOUBLE_EQ(c.reading_accuracy(), 0.5);
  // Scores against "read right": only the 0.8 box is right. Bin 0.9-1: scores 0.92, 0.95,
  // 0.99, none right; bin 0.8-0.9: 0.8, right.
  const Reliability& rel = c.reliability;
  EXPECT_EQ(rel.total(), 4);
  EXPECT_EQ(rel.count[9], 3);
  EXPECT_EQ(rel.right[9], 0);
  EXPECT_EQ(rel.count[8], 1);
  EXPECT_EQ(rel.right[8], 1);
  EXPECT_NEAR(rel.ece(), (0.92 + 0.95 + 0.99 + (1 - 0.8)) / 4, 1e-6);
  // Perfectly calibrated: in the 0.5-0.6 bin, half of the scores of 0.5 right; sums add up.
  Reliability half;
  half.add(0.5, true);
  half.add(0.5, false);
  EXPECT_NEAR(half.ece(), 0.0, 1e-12);
  half += rel;
  EXPECT_EQ(half.total(), 6);
  EXPECT_NEAR(half.ece(), (0.92 + 0.95 + 0.99 + 0.2) / 6, 1e-6);
  EXPECT_EQ(Reliability{}.ece(), 0.0);
  Reliability edge;  // a score of exactly 1 goes to the last bin
  edge.add(1.0, true);
  EXPECT_EQ(edge.count[Reliability::kBins - 1], 1);
  // Below IoU 0.5 nothing matches.
  EXPECT_EQ(match_detections({{{5, 0, 10, 10}, 3, 1.f}}, truth).matched, 0);
  // Candidate recall counts truths with any box at IoU >= 0.5, however many boxes cover them.
  EXPECT_EQ(covered_truths({{0, 0, 10, 10}, {1, 0, 10, 10}, {5, 0, 10, 10}}, truth), 1);
  EXPECT_EQ(covered_truths({}, truth), 0);
}

class SceneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    digits_ = load_split(test::mnist_dir(), "test", 10);
    bgs_ = load_backgrounds(default_background_paths());
  }
  Dataset digits_;
  std::vector<cv::Mat> bgs_;
};

TEST_F(SceneTest, ScenesAreReproducibleAndTheirTruthIsConsistent) {
  SceneConfig cfg;
  const Scene a = make_scene(digits_, bgs_, 42, cfg), b = make_scene(digits_, bgs_, 42, cfg);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
  EXPECT_NE(cv::norm(a.image, make_scene(digits_, bgs_, 43, cfg).image, cv::NORM_INF), 0.0);
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const Scene s = make_scene(digits_, bgs_, seed, cfg);
    ASSERT_EQ(s.image.size(), cv::Size(cfg.width, cfg.height));
    ASSERT_GE(static_cast<int>(s.digits.size()), cfg.min_digits);
    ASSERT_LE(static_cast<int>(s.digits.size()), cfg.max_digits);
    int inside = 0;
    for (size_t i = 0; i < s.digits.size(); ++i) {
      const DigitTruth& d = s.digits[i];
      EXPECT_EQ(d.box & cv::Rect(0, 0, cfg.width, cfg.height), d.box);
      EXPECT_EQ(d.label, digits_.labels[d.source_index].item<int64_t>());
      EXPECT_GE(d.box.height, cfg.min_digit_height - 2);
      EXPECT_LE(d.box.height, cfg.max_digit_height);
      for (size_t j = 0; j < i; ++j) EXPECT_EQ((d.box & s.digits[j].box).area(), 0);
      inside += cv::countNonZero(s.mask(d.box));
    }
    EXPECT_EQ(inside, cv::countNonZero(s.mask)) << "mask pixels outside the boxes";
    // The strokes differ from the ground in the declared direction.
    const cv::Mat g = to_gray(s.image);
    const double on = cv::mean(g, s.mask)[0], off = cv::mean(g, 255 - s.mask)[0];
    EXPECT_EQ(on < off, s.dark_on_light) << "seed " << seed;
  }
}

TEST_F(SceneTest, DetectFindsAndReadsTheDigitsOfGeneratedScenes) {
  test::Trained t = test::load_trained();
  DetectConfig cfg;
  cfg.heatmap.mode = MapMode::kPooled;
  MatchCounts total;
  for (uint64_t seed = 500; seed < 530; ++seed) {
    const Scene s = make_scene(digits_, bgs_, seed, SceneConfig{});
    const DetectOutput d =
        detect_digits(t.model.net, to_gray(s.image), t.importance.weights(), cfg);
    EXPECT_EQ(d.heatmap.size(), s.image.size());
    EXPECT_EQ(d.mask.size(), s.image.size());
    for (const Detection& det : d.detections) {  // every detection was a candidate, same box
      EXPECT_NE(std::find(d.candidates.begin(), d.candidates.end(), det.box), d.candidates.end());
    }
    total += match_detections(d.detections, s.digits);
  }
  // Measured with this test's 1-epoch model on these 30 scenes: precision 0.947, recall
  // 0.867, reading 0.867. The bars leave room for thread-count rounding differences.
  std::printf("30 scenes: precision %.3f recall %.3f reading %.3f\n", total.precision(),
              total.recall(), total.reading_accuracy());
  EXPECT_GE(total.recall(), 0.75);
  EXPECT_GE(total.precision(), 0.75);
  EXPECT_GE(total.reading_accuracy(), 0.70);
}

TEST(Detect, NonMaxSuppressionKeepsTheBestOfOverlappingBoxes) {
  const std::vector<Detection> kept = non_max_suppression(
      {{{0, 0, 10, 10}, 1, 0.8f},
       {{1, 1, 10, 10}, 2, 0.9f},  // IoU 81/119 with the first: one of them goes
       {{40, 40, 20, 20}, 3, 0.7f},
       {{45, 45, 8, 8}, 4, 0.95f},    // inside the third: a fragment, but the better score
       {{100, 0, 10, 10}, 5, 0.5f}},  // alone
      0.3);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].label, 4);
  EXPECT_EQ(kept[1].label, 2);
  EXPECT_EQ(kept[2].label, 5);
}

TEST_F(SceneTest, AReaderThatSaysNotADigitRejectsEverything) {
  test::Trained t = test::load_trained();
  LeNet reader(LeNetOptions{1, 11, 28});
  {
    at::NoGradGuard g;
    for (auto& p : reader->parameters()) p.zero_();
    reader->fc3->bias[10] = 5.0;  // always "not a digit"
  }
  DetectConfig cfg;
  cfg.heatmap.mode = MapMode::kPooled;
  const Scene s = make_scene(digits_, bgs_, 500, SceneConfig{});
  const cv::Mat gray = to_gray(s.image);
  ASSERT_FALSE(detect_digits(t.model.net, gray, t.importance.weights(), cfg).detections.empty());
  cfg.reader = reader;
  const DetectOutput d = detect_digits(t.model.net, gray, t.importance.weights(), cfg);
  EXPECT_FALSE(d.candidates.empty());
  EXPECT_TRUE(d.detections.empty());
}

TEST_F(SceneTest, MinedCandidatesAreLabelledByTheirTruth) {
  test::Trained t = test::load_trained();
  ReaderConfig rc;
  rc.scenes = 12;
  DetectConfig det;
  det.heatmap.mode = MapMode::kPooled;
  const std::vector<float> w = t.importance.weights();
  const Dataset mined =
      mine_candidates([&](const cv::Mat& g) { return heatmap(t.model.net, g, w, det.heatmap); },
                      digits_, load_backgrounds(training_background_paths()), det, rc);
  ASSERT_GT(mined.size(), 12);
  EXPECT_EQ(mined.num_classes, 11);
  EXPECT_EQ(mined.images.sizes(), (at::IntArrayRef{mined.size(), 1, 28, 28}));
  EXPECT_GE(mined.labels.min().item<int64_t>(), 0);
  EXPECT_LE(mined.labels.max().item<int64_t>(), 10);
  const int64_t background = mined.labels.eq(10).sum().item<int64_t>();
  EXPECT_GT(background, 0);             // clutter proposed on the photos
  EXPECT_LT(background, mined.size());  // and digits found
  // The crops are MNIST-like: strokes fill the middle, the outer rows are (nearly) empty.
  const double edge = mined.images.select(2, 0).to(at::kFloat).mean().item<double>();
  const double middle = mined.images.select(2, 14).to(at::kFloat).mean().item<double>();
  EXPECT_LT(edge, 10.0);
  EXPECT_GT(middle, 4 * edge);
}

TEST(Numbers, DigitsSideBySideOnOneLineAreReadTogether) {
  // "2024" of 30 px digits with 4-6 px gaps, a "7" far to the right on the same line, "15"
  // below, and a small "3" (half the height) touching the "4": each its own number.
  const std::vector<Detection> dets = {{{100, 10, 18, 30}, 4, 0.9f},  // out of order on purpose
                                       {{10, 10, 18, 30}, 2, 0.9f},  {{32, 11, 18, 30}, 0, 0.8f},
                                       {{56, 9, 18, 30}, 2, 1.0f},   {{78, 10, 18, 31}, 4, 0.5f},
                                       {{300, 10, 18, 30}, 7, 0.9f}, {{20, 60, 16, 28}, 1, 0.9f},
                                       {{38, 62, 17, 28}, 5, 0.9f},  {{118, 30, 9, 15}, 3, 0.9f}};
  const std::vector<NumberGroup> nums = group_numbers(dets);
  ASSERT_EQ(nums.size(), 4u);
  EXPECT_EQ(nums[0].text, "20244");  // top edge 9..11: the first line, left first
  EXPECT_EQ(nums[0].digits, (std::vector<int>{1, 2, 3, 4, 0}));
  EXPECT_EQ(nums[0].box, cv::Rect(10, 9, 108, 32));
  EXPECT_NEAR(nums[0].score, 0.9 * 0.9 * 0.8 * 1.0 * 0.5, 1e-6);
  EXPECT_EQ(nums[1].text, "7");  // a gap of 182 px: not the same number
  EXPECT_EQ(nums[2].text, "3");  // half the height: not the same number
  EXPECT_EQ(nums[3].text, "15");
  EXPECT_EQ(nums[3].box, cv::Rect(20, 60, 35, 30));
  EXPECT_TRUE(group_numbers({}).empty());
  // A gap of exactly 0.8 heights still joins, one pixel more does not.
  EXPECT_EQ(group_numbers({{{0, 0, 10, 20}, 1, 1.f}, {{26, 0, 10, 20}, 2, 1.f}}).size(), 1u);
  EXPECT_EQ(group_numbers({{{0, 0, 10, 20}, 1, 1.f}, {{27, 0, 10, 20}, 2, 1.f}}).size(), 2u);
}

// A rendered line of text: its digits as detections (the components as tall as the tallest,
// labelled by the string's digits left to right), for the separators test.
std::vector<Detection> rendered_digits(const cv::Mat& gray, const std::string& text, bool dark) {
  cv::Mat ink, labels, stats, centroids;
  cv::threshold(gray, ink, 128, 255, dark ? cv::THRESH_BINARY_INV : cv::THRESH_BINARY);
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  int tallest = 0;  // of the components not thin as a bar
  for (int i = 1; i < n; ++i) {
    const int h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    if (stats.at<int>(i, cv::CC_STAT_WIDTH) > 0.2 * h) tallest = std::max(tallest, h);
  }
  std::vector<cv::Rect> boxes;
  for (int i = 1; i < n; ++i) {
    const int h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    if (h < 0.8 * tallest || h > 1.2 * tallest) continue;
    boxes.emplace_back(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
  }
  std::sort(boxes.begin(), boxes.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x; });
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  EXPECT_EQ(boxes.size(), digits.size()) << text;
  std::vector<Detection> dets;
  for (size_t i = 0; i < std::min(boxes.size(), digits.size()); ++i) {
    dets.push_back({boxes[i], digits[i] - '0', 0.99f});
  }
  return dets;
}

// Dates, prices and times keep their marks in "separators"; the digits alone stay in "text".
TEST(Numbers, SeparatorsBetweenDigitsAreRead) {
  struct Case {
    std::string drawn, expected;
  };
  for (const bool dark : {true, false}) {
    for (const Case& c : std::vector<Case>{{"8-1-09", "8-1-09"},
                                           {"13.99", "13.99"},
                                           {"12:45", "12:45"},
                                           {"2024", "2024"},
                                           {"12|45", "1245"},  // a stroke the height of a digit
                                           {"7,5", "7,5"}}) {
      cv::Mat gray(160, 700, CV_8UC1, cv::Scalar(dark ? 235 : 30));
      cv::putText(gray, c.drawn, {30, 110}, cv::FONT_HERSHEY_SIMPLEX, 3.0,
                  cv::Scalar(dark ? 25 : 220), 6, cv::LINE_AA);
      const std::vector<Detection> dets = rendered_digits(gray, c.drawn, dark);
      // This font's "-" is wide (gaps of 1.4-1.5 digit heights): "8", "1" and "09" are three
      // numbers until the marks join them.
      const std::vector<SeparatedNumber> nums = read_separated_numbers(gray, dets);
      ASSERT_EQ(nums.size(), 1u) << c.drawn;
      std::string digits_only;
      for (char ch : c.expected) {
        if (ch >= '0' && ch <= '9') digits_only += ch;
      }
      EXPECT_EQ(nums[0].group.text, digits_only) << c.drawn;
      EXPECT_EQ(nums[0].group.digits.size(), digits_only.size()) << c.drawn;
      EXPECT_EQ(nums[0].separators, c.expected)
          << c.drawn << (dark ? ", dark on light" : ", light on dark");
    }
  }
  // Without an image, or for one digit, the digits alone; a wide gap with no mark stays a gap.
  const std::vector<Detection> one = {{{10, 10, 20, 40}, 4, 0.9f}};
  EXPECT_EQ(text_with_separators(cv::Mat(), group_numbers(one)[0], one), "4");
  cv::Mat blank(160, 700, CV_8UC1, cv::Scalar(235));
  cv::putText(blank, "8   1", {30, 110}, cv::FONT_HERSHEY_SIMPLEX, 3.0, cv::Scalar(25), 6,
              cv::LINE_AA);
  EXPECT_EQ(read_separated_numbers(blank, rendered_digits(blank, "81", true)).size(), 2u);
  EXPECT_EQ(read_separated_numbers(cv::Mat(), rendered_digits(blank, "81", true))[0].separators, "");
}

TEST(Numbers, DigitsAmongLettersArePartOfAWord) {
  // One digit 20 px tall at x 100-111, y 0-19 (an "O" read as 0), and character boxes around.
  const std::vector<Detection> dets = {{{100, 0, 12, 20}, 0, 1.f}};
  int in_a_row = 2;  // letters in a row on one side that make a word
  const auto lettered = [&](const std::vector<cv::Rect>& letters) -> bool {
    return among_letters(dets, group_numbers(dets), letters, 0.35, in_a_row)[0];
  };
  const cv::Rect after1(115, 0, 12, 20), after2(130, 1, 13, 19), before1(85, 0, 12, 20);
  EXPECT_FALSE(lettered({}));
  EXPECT_FALSE(lettered({after1}));                  // one letter: "A4" stays a digit
  EXPECT_TRUE(lettered({after1, after2}));           // two after it: "DOUBLE"
  EXPECT_TRUE(lettered({before1, after1}));          // one on each side: "TIMES"
  EXPECT_FALSE(lettered({cv::Rect(125, 0, 12, 20), after2}));  // a gap of 13 px > 0.35 * 20
  EXPECT_FALSE(lettered({cv::Rect(115, 0, 12, 30), after2}));  // 1.5x as tall: a grid line
  EXPECT_FALSE(lettered({cv::Rect(115, 0, 4, 20), after2}));   // a thin line
  EXPECT_FALSE(lettered({cv::Rect(115, 8, 12, 20), after2}));  // neither top nor base shared
  EXPECT_TRUE(lettered({cv::Rect(115, 4, 12, 16), after2}));   // lower case: the base shared
  EXPECT_FALSE(lettered({cv::Rect(102, 0, 12, 20), after2}));  // on the digit: a piece of it
  // Of two boxes beside it, the larger (a whole letter) leads the chain on.
  EXPECT_TRUE(lettered({cv::Rect(115, 0, 7, 20), after1, after2}));
  EXPECT_FALSE(lettered({cv::Rect(115, 0, 7, 20), after2}));  // from the narrow one: too far
  // One letter in a row suffices when asked: "A4" is then a word too.
  in_a_row = 1;
  EXPECT_TRUE(lettered({after1}));
  EXPECT_TRUE(lettered({before1}));
  EXPECT_FALSE(lettered({cv::Rect(125, 0, 12, 20)}));
  // A number is a word piece by its ends: letters after "12" drop both digits, letters
  // between them do not count.
  const std::vector<Detection> two = {{{100, 0, 12, 20}, 1, 1.f}, {{114, 0, 12, 20}, 2, 1.f}};
  const std::vector<bool> w =
      among_letters(two, group_numbers(two), {{129, 0, 12, 20}, {144, 0, 12, 20}}, 0.35, 2);
  EXPECT_EQ(w, (std::vector<bool>{true, true}));
  EXPECT_EQ(among_letters(two, group_numbers(two), {{129, 0, 12, 20}}, 0.35, 2),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(among_letters(two, group_numbers(two), {{113, 0, 1, 20}}, 0.35, 1),
            (std::vector<bool>{false, false}));
}

TEST_F(SceneTest, ReadsAGridOfDigitCellsLikeDigitsPng) {
  // Ten rows, one per class, of 20 MNIST test digits each, shrunk to 20 x 20 cells.
  constexpr int kCell = 20, kCols = 20;
  cv::Mat grid(10 * kCell, kCols * kCell, CV_8U, cv::Scalar(0));
  std::vector<int> next(10, 0);
  for (int64_t i = 0; i < digits_.size(); ++i) {
    const int label = static_cast<int>(digits_.labels[i].item<int64_t>());
    if (next[label] == kCols) continue;
    const at::Tensor img = digits_.images[i][0].contiguous();
    const cv::Mat d(28, 28, CV_8U, img.data_ptr<uint8_t>());
    cv::Mat small;
    cv::resize(d, small, {kCell, kCell}, 0, 0, cv::INTER_AREA);
    small.copyTo(grid(cv::Rect(next[label]++ * kCell, label * kCell, kCell, kCell)));
  }
  const Detector det = make_detector(test::ensure_trained() + "/model.safetensors", Options{});
  const CellReading r = read_cell_grid(det, grid, {kCell, /*rows_per_class=*/1, false});
  EXPECT_EQ(r.cells, 200);
  EXPECT_EQ(r.rejected, 0);  // no reader: the model reads, it has no "not a digit" class
  int64_t total = 0;
  for (const auto& row : r.confusion) {
    for (int64_t v : row) total += v;
  }
  EXPECT_EQ(total + r.empty, 200);
  std::printf("grid of 200 cells: accuracy %.3f, %lld empty\n", r.accuracy(),
              static_cast<long long>(r.empty));
  // The 1-epoch test model reads MNIST test digits at about 97 %; through the shrink and the
  // detector's normalisation this grid measured 0.980. 0.85 leaves room for thread-count
  // rounding, and fails for a grid read with the wrong polarity or class order.
  EXPECT_GE(r.accuracy(), 0.85);
  EXPECT_LT(read_cell_grid(det, 255 - grid, {kCell, 1, false}).accuracy(), 0.5);
  EXPECT_THROW(read_cell_grid(det, grid, {kCell, /*rows_per_class=*/0, false}),
               std::invalid_argument);
}

}  // namespace
}  // namespace adgap
