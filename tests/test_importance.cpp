// Filter importance (Eq. 1) on a hand-built network whose answer is known analytically, and
// against a direct, one-channel-at-a-time computation.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "adgap/importance/importance.h"
#include "adgap/methods/cam.h"
#include "fixtures.h"

namespace adgap {
namespace {

// Every trunk weight zero, conv2 biases b: each final map is the constant relu(b_i) whatever
// the input. The head reads logit0 = sum of channel 0's 49 cells and logit1 = same of channel
// 1; all other logits are 0.
LeNet hand_built(double b0, double b1) {
  LeNet net;
  at::NoGradGuard g;
  for (auto& p : net->parameters()) p.zero_();
  net->conv2->bias[0] = b0;
  net->conv2->bias[1] = b1;
  net->fc1->weight[0].narrow(0, 0, 49).fill_(1.0);   // channel 0's cells
  net->fc1->weight[1].narrow(0, 49, 49).fill_(1.0);  // channel 1's cells
  net->fc2->weight[0][0] = 1.0;
  net->fc2->weight[1][1] = 1.0;
  net->fc3->weight[0][0] = 1.0;
  net->fc3->weight[1][1] = 1.0;
  return net;
}

Dataset labels_only(const std::vector<int64_t>& labels) {
  Dataset d;
  d.name = "hand/made";
  d.images = at::randint(0, 256, {static_cast<int64_t>(labels.size()), 1, 28, 28}).to(at::kByte);
  d.labels = at::tensor(labels);
  d.num_classes = 10;
  return d;
}

TEST(Importance, HandBuiltNetworkMatchesTheAnalyticAnswer) {
  const double u0 = 3.0, u1 = 1.0;  // logits of classes 0 and 1
  LeNet net = hand_built(u0 / 49, u1 / 49);
  const Dataset d = labels_only({0, 0, 0, 1});
  const FilterImportance imp = compute_importance(net, d, /*batch_size=*/3);
  // NLL of class y under logits (l0, l1, 0 x 8): log(e^l0 + e^l1 + 8) - l_y.
  auto nll = [](double l0, double l1, int y) {
    return std::log(std::exp(l0) + std::exp(l1) + 8) - (y == 0 ? l0 : l1);
  };
  const double base = (3 * nll(u0, u1, 0) + nll(u0, u1, 1)) / 4;
  const double no0 = (3 * nll(0, u1, 0) + nll(0, u1, 1)) / 4;
  const double no1 = (3 * nll(u0, 0, 0) + nll(u0, 0, 1)) / 4;
  const double tol = 1e-5;
  EXPECT_EQ(imp.samples, 4);
  EXPECT_NEAR(imp.baseline_loss, base, tol);
  EXPECT_NEAR(imp.loss_rise[0], no0 - base, tol);
  EXPECT_NEAR(imp.loss_rise[1], no1 - base, tol);
  for (int i = 2; i < 16; ++i) EXPECT_NEAR(imp.loss_rise[i], 0.0, tol) << i;
  // Baseline predicts 0 everywhere: 1 of 4 wrong. Blocking 0 predicts 1: 3 of 4 wrong.
  EXPECT_DOUBLE_EQ(imp.baseline_error, 0.25);
  EXPECT_DOUBLE_EQ(imp.error_rise[0], 0.5);
  EXPECT_DOUBLE_EQ(imp.error_rise[1], 0.0);
  // Per class: class 0 loses when channel 0 is blocked, class 1 gains.
  EXPECT_NEAR(imp.class_loss_rise[0][0], nll(0, u1, 0) - nll(u0, u1, 0), tol);
  EXPECT_NEAR(imp.class_loss_rise[1][0], nll(0, u1, 1) - nll(u0, u1, 1), tol);
  EXPECT_LT(imp.class_loss_rise[1][0], 0.0);
  EXPECT_DOUBLE_EQ(imp.class_error_rise[0][0], 1.0);
  EXPECT_DOUBLE_EQ(imp.class_error_rise[1][0], -1.0);
  EXPECT_EQ(imp.class_samples[0], 3);
  EXPECT_EQ(imp.class_samples[5], 0);
  // Mean activation: the maps are the constants b_i. ccGAP: loss change over energy 49 b_i^2.
  EXPECT_NEAR(imp.mean_activation[0], u0 / 49, 1e-7);
  EXPECT_NEAR(imp.mean_activation[1], u1 / 49, 1e-7);
  EXPECT_NEAR(imp.mean_activation[2], 0.0, 1e-12);
  EXPECT_NEAR(imp.ccgap[0], (no0 - base) / (49 * (u0 / 49) * (u0 / 49)), 1e-4);
  EXPECT_NEAR(imp.ccgap[1], (no1 - base) / (49 * (u1 / 49) * (u1 / 49)), 1e-4);
  EXPECT_DOUBLE_EQ(imp.ccgap[5], 0.0);  // zero energy: no contribution
  // Weights select the right rows.
  EXPECT_FLOAT_EQ(imp.weights()[0], static_cast<float>(no0 - base));
  EXPECT_FLOAT_EQ(imp.weights(1)[0], static_cast<float>(imp.class_loss_rise[1][0]));
  EXPECT_FLOAT_EQ(imp.weights(-1, /*by_error=*/true)[0], 0.5f);
  EXPECT_THROW(imp.weights(10), std::out_of_range);
}

TEST(Importance, AgreesWithBlockingOneChannelAtATime) {
  at::manual_seed(5);
  LeNet net;
  net->eval();
  Dataset d = labels_only({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3, 1});
  const FilterImportance imp = compute_importance(net, d, /*batch_size=*/5);
  at::NoGradGuard g;
  const at::Tensor maps = net->trunk(to_input(d.images));
  const double base = at::nll_loss(net->head(maps), d.labels).item<double>();
  for (int64_t i : {0, 7, 15}) {
    at::Tensor blocked = maps.clone();
    blocked.select(1, i).zero_();
    const double li = at::nll_loss(net->head(blocked), d.labels).item<double>();
    EXPECT_NEAR(imp.loss_rise[i], li - base, 1e-5) << "channel " << i;
  }
}

TEST(Importance, BlockedHeadEqualsTheHeadOnMaskedCopies) {
  // fc1 once, each channel's share subtracted, against the head run on 17 masked copies: every
  // log-probability within 1e-5, for Table 1 and for a wider network.
  for (const LeNetWidths& w : {LeNetWidths{}, LeNetWidths{8, 24, 64, 32}}) {
    at::manual_seed(11);
    LeNetOptions o;
    o.widths = w;
    o.num_classes = 11;
    LeNet net(o);
    net->eval();
    at::NoGradGuard g;
    const at::Tensor maps = at::relu(at::randn({9, w.conv2, 7, 7}));
    const at::Tensor fast = blocked_head(net, maps);
    ASSERT_EQ(fast.sizes(), (at::IntArrayRef{w.conv2 + 1, 9, 11}));
    EXPECT_LT((fast[0] - net->head(maps)).abs().max().item<double>(), 1e-5);
    for (int64_t i = 0; i < w.conv2; ++i) {
      at::Tensor blocked = maps.clone();
      blocked.select(1, i).zero_();
      EXPECT_LT((fast[1 + i] - net->head(blocked)).abs().max().item<double>(), 1e-5)
          << "channel " << i;
    }
  }
}

TEST(Importance, CamLearnsASeparableProblem) {
  // Channel 0's level says class 0, channel 1's says class 1: a linear classifier on the
  // pooled averages must separate them.
  Dataset d = labels_only({0, 1, 0, 1, 0, 1, 0, 1});
  LeNet net;
  {
    at::NoGradGuard g;
    for (auto& p : net->parameters()) p.zero_();
    // conv1 passes the image's mean level on; conv2 channel 0 copies it, channel 1 inverts it.
    net->conv1->weight[0].fill_(1.0 / 25);
    net->conv2->weight[0][0].fill_(1.0 / 25);
    net->conv2->weight[1][0].fill_(-1.0 / 25);
    net->conv2->bias[1] = 1.0;
  }
  for (int64_t i = 0; i < 8; ++i) d.images[i].fill_(i % 2 ? 40 : 220);
  FilterImportance imp = compute_importance(net, d);
  train_cam(net, d, imp, /*epochs=*/300);
  EXPECT_DOUBLE_EQ(imp.cam_accuracy, 1.0);
  ASSERT_EQ(imp.cam_weights.size(), 10u);
  EXPECT_GT(imp.cam_weights[0][0], imp.cam_weights[1][0]);  // bright channel 0 -> class 0
}

TEST(Importance, JsonRoundTripAndBadFiles) {
  LeNet net = hand_built(0.05, 0.02);
  const FilterImportance imp = compute_importance(net, labels_only({0, 1, 1}));
  test::TempDir dir;
  save_importance(dir.file("w.json"), imp);
  const FilterImportance back = load_importance(dir.file("w.json"));
  EXPECT_EQ(back.to_json(), imp.to_json());
  EXPECT_EQ(back.split, "hand/made");
  test::write_bytes(dir.file("bad.json"), {'{', '"', 'x'});
  EXPECT_THROW(load_importance(dir.file("bad.json")), std::runtime_error);
  nlohmann::json j = imp.to_json();
  j["loss_rise"].erase(0);
  const std::string text = j.dump();
  test::write_bytes(dir.file("short.json"), std::vector<uint8_t>(text.begin(), text.end()));
  try {
    load_importance(dir.file("short.json"));
    FAIL() << "accepted 15 weights for 16 channels";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("short.json: filter-importance arrays"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_importance(dir.file("none.json")), std::runtime_error);
}

}  // namespace
}  // namespace adgap
