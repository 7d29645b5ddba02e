// The Table 1 network: shapes of the whole net, the trunk on odd sizes, pooled and unpooled,
// and the separation of trunk and head (blocking a channel changes the output).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "adgap/model/lenet.h"
#include "adgap/model/trunk_kernel.h"

namespace adgap {
namespace {

TEST(TrunkKernel, EqualsLibTorchsPooledTrunk) {
  // adgap's kernel against LibTorch's layers on random weights and inputs (some negative):
  // Table 1, the readers' wider trunks, and sizes other than 28x28; within 1e-4 of the
  // largest magnitude.
  for (const LeNetWidths& w : {LeNetWidths{}, LeNetWidths{16, 32, 128, 84},
                               LeNetWidths{32, 64, 256, 128}, LeNetWidths{5, 20, 30, 20}}) {
    at::manual_seed(21);
    LeNetOptions o;
    o.widths = w;
    LeNet net(o);
    net->eval();
    at::NoGradGuard g;
    const TrunkKernelWeights k = TrunkKernelWeights::from(net);
    for (const auto& hw : {std::pair<int64_t, int64_t>{28, 28}, {12, 20}, {4, 4}}) {
      const at::Tensor x = at::rand({37, 1, hw.first, hw.second}) - 0.2;
      const at::Tensor ref = net->trunk(x, TrunkMode::kPooled);
      const at::Tensor got = pooled_trunk(k, x);
      ASSERT_EQ(got.sizes(), ref.sizes());
      const double scale = std::max(1.0, ref.abs().max().item<double>());
      EXPECT_LE((got - ref).abs().max().item<double>(), 1e-4 * scale)
          << "widths " << w.conv1 << "-" << w.conv2 << " size " << hw.first << "x" << hw.second;
      EXPECT_LE((inference_trunk(net, x) - ref).abs().max().item<double>(), 1e-4 * scale);
    }
  }
}

TEST(TrunkKernel, LibTorchRunsWhereTheKernelDoesNot) {
  at::manual_seed(3);
  LeNet net;
  const at::Tensor x = at::rand({2, 1, 28, 28});
  {
    // With gradients wanted the trunk is LibTorch's, so backward works.
    const at::Tensor f = inference_trunk(net, x);
    EXPECT_TRUE(f.requires_grad());
    f.sum().backward();
    EXPECT_TRUE(net->conv1->weight.grad().defined());
  }
  at::NoGradGuard g;
  // A size that is not a multiple of 4: LibTorch's pooling decides, as before.
  const at::Tensor odd = at::rand({1, 1, 30, 30});
  EXPECT_TRUE(inference_trunk(net, odd).equal(net->trunk(odd, TrunkMode::kPooled)));
  EXPECT_THROW(pooled_trunk(TrunkKernelWeights::from(net), odd), c10::Error);
  LeNetOptions too_wide;
  too_wide.widths = LeNetWidths{48, 16, 120, 84};
  LeNet wide(too_wide);
  EXPECT_FALSE(trunk_kernel_supports(wide));
  EXPECT_THROW(TrunkKernelWeights::from(wide), std::invalid_argument);
}

TEST(LeNet, ParameterCountMatchesTable1) {
  LeNet net;
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  // conv1 6*25+6, conv2 16*6*25+16, fc 784*120+120, 120*84+84, 84*10+10.
  EXPECT_EQ(n, 156 + 2416 + 94200 + 10164 + 850);
}

TEST(LeNet, ForwardOn28x28GivesLogProbabilities) {
  at::manual_seed(0);
  LeNet net;
  const at::Tensor out = net->forward(at::rand({5, 1, 28, 28}));
  ASSERT_EQ(out.sizes(), (at::IntArrayRef{5, 10}));
  // log-softmax: each row's probabilities sum to one.
  EXPECT_TRUE(at::allclose(out.exp().sum(1), at::ones({5}), 1e-5, 1e-6));
}

TEST(LeNet, TrunkAcceptsAnySize) {
  LeNet net;
  const at::Tensor x = at::rand({2, 1, 37, 211});
  EXPECT_EQ(net->trunk(x).sizes(), (at::IntArrayRef{2, 16, 9, 52}));  // floor(floor(n/2)/2)
  EXPECT_EQ(net->trunk(x, TrunkMode::kUnpooled).sizes(), (at::IntArrayRef{2, 16, 37, 211}));
  EXPECT_EQ(net->trunk(at::rand({1, 1, 5, 4})).sizes(), (at::IntArrayRef{1, 16, 1, 1}));
  EXPECT_EQ(net->trunk(at::rand({1, 1, 5, 3}), TrunkMode::kUnpooled).sizes(),
            (at::IntArrayRef{1, 16, 5, 3}));
  EXPECT_THROW(net->trunk(at::rand({1, 1, 5, 3})), c10::Error);  // too small to pool twice
}

TEST(LeNet, ClassCountComesFromOptions) {
  LeNet net(LeNetOptions{1, 26, 28});
  EXPECT_EQ(net->forward(at::rand({3, 1, 28, 28})).sizes(), (at::IntArrayRef{3, 26}));
  EXPECT_THROW(LeNet(LeNetOptions{1, 1, 28}), c10::Error);
  EXPECT_THROW(LeNet(LeNetOptions{1, 10, 30}), c10::Error);
}

TEST(LeNet, WidthsWidenEveryLayer) {
  LeNet net(LeNetOptions{1, 11, 28, LeNetWidths{16, 32, 128, 64}});
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  // conv1 16*25+16, conv2 32*16*25+32, fc 32*49*128+128, 128*64+64, 64*11+11.
  EXPECT_EQ(n, 416 + 12832 + 200832 + 8256 + 715);
  EXPECT_EQ(net->trunk_channels(), 32);
  EXPECT_EQ(net->trunk(at::rand({2, 1, 28, 28})).sizes(), (at::IntArrayRef{2, 32, 7, 7}));
  EXPECT_EQ(net->forward(at::rand({3, 1, 28, 28})).sizes(), (at::IntArrayRef{3, 11}));
  EXPECT_THROW(LeNet(LeNetOptions{1, 10, 28, LeNetWidths{0, 16, 120, 84}}), c10::Error);
  EXPECT_TRUE(LeNetWidths{}.is_table1());
  EXPECT_FALSE((LeNetWidths{6, 16, 120, 85}.is_table1()));
}

TEST(LeNet, ShapeChecksStayOnAndNameTheShape) {
  LeNet net;
  EXPECT_THROW(net->trunk(at::rand({1, 3, 28, 28})), c10::Error);
  try {
    net->head(at::rand({1, 16, 8, 7}));
    FAIL() << "head accepted (1, 16, 8, 7)";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 16, 8, 7]"), std::string::npos) << e.what();
  }
}

TEST(LeNet, HeadOfTrunkEqualsForwardAndBlockingAChannelMatters) {
  at::manual_seed(1);
  LeNet net;
  const at::Tensor x = at::rand({4, 1, 28, 28});
  const at::Tensor maps = net->trunk(x);  // (4, 16, 7, 7)
  EXPECT_TRUE(at::equal(net->head(maps), net->forward(x)));
  at::Tensor blocked = maps.clone();
  blocked.select(1, 3).zero_();
  const double change = (net->head(blocked) - net->head(maps)).abs().max().item<double>();
  EXPECT_GT(change, 1e-6);
  // Blocking a channel that is already zero everywhere changes nothing.
  at::Tensor zeroed = maps.clone();
  zeroed.select(1, 5).zero_();
  at::Tensor twice = zeroed.clone();
  twice.select(1, 5).zero_();
  EXPECT_TRUE(at::equal(net->head(zeroed), net->head(twice)));
}

TEST(LeNet, UnpooledTrunkEqualsConvolutionsWithoutPools) {
  at::manual_seed(2);
  LeNet net;
  const at::Tensor x = at::rand({1, 1, 20, 33});
  const at::Tensor expected = at::relu(net->conv2->forward(at::relu(net->conv1->forward(x))));
  EXPECT_TRUE(at::allclose(net->trunk(x, TrunkMode::kUnpooled), expected, 0, 0));
}

}  // namespace
}  // namespace adgap
