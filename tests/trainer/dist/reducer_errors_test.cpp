// Misuse of the GradientReducer is an exception naming the parameter and the
// likely cause (c10d's Reducer is the model), never a silent skip or a wrong
// gradient. One fake two-rank communicator, no network.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <regex>

#include "tests/trainer/dist/fake_two_ranks.h"
#include "trainer/dist/gradient_reducer.h"
#include "trainer/dist/reducer_errors.h"
#include "trainer/user_error.h"

namespace medtrain::dist {
namespace {

using testing::FakeTwoRanks;

struct Net : torch::nn::Module {
  explicit Net(bool with_unused) {
    a = register_module("a", torch::nn::Linear(8, 16));
    b = register_module("b", torch::nn::Linear(16, 4));
    if (with_unused) unused = register_module("unused", torch::nn::Linear(3, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return b->forward(torch::relu(a->forward(x))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, unused{nullptr};
};

GradientReducer::NamedParams named(torch::nn::Module& m) {
  GradientReducer::NamedParams out;
  for (auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

// The message of what `fn` throws, checked to be of type E and one line.
template <typename E, typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    return what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "nothing was thrown";
  return "";
}

class ReducerErrors : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(2); }
  GradientReducer make(Net& n, bool find_unused = false) {
    ReducerOptions o;
    o.limits = {64, 256};
    o.find_unused_parameters = find_unused;
    return GradientReducer(named(n), comm, o);
  }
  void backward(Net& n) { n.forward(torch::randn({3, 8})).square().sum().backward(); }
  Net net{/*with_unused=*/false};
  FakeTwoRanks comm;
};

TEST_F(ReducerErrors, ReadyTwiceInOneSyncedBackwardNamesTheParameter) {
  auto reducer = make(net);
  reducer.zero_grad();
  reducer.begin_backward(true);
  backward(net);
  // A second backward for the same step: every parameter becomes ready again.
  const auto what = error_of<ReducerMisuse>([&] { backward(net); });
  EXPECT_NE(what.find("received its gradient twice in one synced backward"), std::string::npos) << what;
  EXPECT_TRUE(std::regex_search(what, std::regex("parameter '(a|b)\\.(weight|bias)'"))) << what;
  EXPECT_NE(what.find("call backward once per micro-step"), std::string::npos) << what;
}

TEST_F(ReducerErrors, FinishWithoutSyncedBackward) {
  auto reducer = make(net);
  reducer.zero_grad();
  reducer.begin_backward(false);
  backward(net);
  auto what = error_of<ReducerMisuse>([&] { reducer.finish(); });
  EXPECT_NE(what.find("finish() without a synced backward: begin_backward(true) was not called"), std::string::npos) << what;
  // A correct step, then finish() a second time.
  reducer.begin_backward(true);
  backward(net);
  reducer.finish();
  what = error_of<ReducerMisuse>([&] { reducer.finish(); });
  EXPECT_NE(what.find("finish() ran twice"), std::string::npos) << what;
  EXPECT_TRUE(comm.launched.size() == reducer.bucket_count()) << "the failed finish() sent something";
}

TEST_F(ReducerErrors, FinishWithoutAnyGradientSinceBeginBackward) {
  auto reducer = make(net);
  reducer.zero_grad();
  backward(net);  // before begin_backward: not counted
  reducer.begin_backward(true);
  const auto what = error_of<ReducerMisuse>([&] { reducer.finish(); });
  EXPECT_NE(what.find("no parameter received a gradient since"), std::string::npos) << what;
  EXPECT_TRUE(comm.launched.empty());
}

TEST_F(ReducerErrors, GradientSetToNoneIsNamedAtBackward) {
  auto reducer = make(net);
  reducer.zero_grad();
  net.a->weight.mutable_grad() = torch::Tensor();  // what zero_grad(set_to_none) does
  reducer.begin_backward(true);
  const auto what = error_of<ReducerMisuse>([&] { backward(net); });
  EXPECT_NE(what.find("the gradient of parameter 'a.weight' is no longer its view into bucket"), std::string::npos) << what;
  EXPECT_NE(what.find("zero_grad with set_to_none"), std::string::npos) << what;
}

TEST_F(ReducerErrors, ModelZeroGradSetToNoneIsNamed) {
  auto reducer = make(net);
  net.zero_grad(/*set_to_none=*/true);
  reducer.begin_backward(true);
  const auto what = error_of<ReducerMisuse>([&] { backward(net); });
  EXPECT_TRUE(std::regex_search(what, std::regex("gradient of parameter '(a|b)\\.(weight|bias)' is no longer its view"))) << what;
}

TEST_F(ReducerErrors, GradientReassignedIsNamed) {
  auto reducer = make(net);
  reducer.zero_grad();
  net.b->bias.mutable_grad() = torch::zeros_like(net.b->bias);  // `.grad = ...`
  reducer.begin_backward(true);
  const auto what = error_of<ReducerMisuse>([&] { backward(net); });
  EXPECT_NE(what.find("'b.bias' is no longer its view into bucket"), std::string::npos) << what;
  EXPECT_NE(what.find("(it is another tensor)"), std::string::npos) << what;
}

TEST_F(ReducerErrors, DroppedGradientOfAnUnusedParameterIsNamedAtFinish) {
  Net with_unused(/*with_unused=*/true);
  auto reducer = make(with_unused, /*find_unused=*/true);
  reducer.zero_grad();
  with_unused.unused->bias.mutable_grad() = torch::Tensor();
  reducer.begin_backward(true);
  backward(with_unused);  // its hook never fires: only finish() can see it
  const auto what = error_of<ReducerMisuse>([&] { reducer.finish(); });
  EXPECT_NE(what.find("'unused.bias' is no longer its view"), std::string::npos) << what;
}

TEST_F(ReducerErrors, UnusedParametersAreAnErrorByDefault) {
  Net with_unused(/*with_unused=*/true);
  auto reducer = make(with_unused);
  reducer.zero_grad();
  reducer.begin_backward(true);
  backward(with_unused);
  const auto what = error_of<UserError>([&] { reducer.finish(); });
  EXPECT_NE(what.find("2 parameters received no gradient in this step's backward (unused.weight, unused.bias)"), std::string::npos) << what;
  EXPECT_NE(what.find("dist.find_unused_parameters: true"), std::string::npos) << what;
  EXPECT_EQ(comm.launched.size(), 0u) << "the buckets holding them were sent before the error";
}

TEST_F(ReducerErrors, ManyUnusedParametersAreListedShortly) {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("p" + std::to_string(i));
  const auto what = reducer_errors::unused_parameters(names);
  EXPECT_NE(what.find("(p0, p1, p2, p3, p4, p5, p6, p7 and 12 more)"), std::string::npos) << what;
}

TEST_F(ReducerErrors, ReplacedParameterIsNamed) {
  auto reducer = make(net);
  reducer.check_parameters(named(net));  // unchanged: fine
  net.replace_module("b", torch::nn::Linear(16, 4));
  const auto what = error_of<ReducerMisuse>([&] { reducer.check_parameters(named(net)); });
  EXPECT_NE(what.find("parameter 'b.weight' changed after the reducer was built (another tensor"), std::string::npos) << what;
}

TEST_F(ReducerErrors, ParameterWithNewLayoutIsNamed) {
  auto reducer = make(net);
  auto& w = net.a->weight;
  w.set_data(w.data().t().contiguous().t());  // same values, column-major
  const auto what = error_of<ReducerMisuse>([&] { reducer.check_parameters(named(net)); });
  EXPECT_NE(what.find("parameter 'a.weight' changed after the reducer was built (set_data changed"), std::string::npos) << what;
}

TEST_F(ReducerErrors, ParameterCountChangeIsExplained) {
  auto reducer = make(net);
  auto params = named(net);
  params.pop_back();  // e.g. frozen after setup and filtered out
  const auto what = error_of<ReducerMisuse>([&] { reducer.check_parameters(params); });
  EXPECT_NE(what.find("the model has 3 trainable parameters, the reducer was built for 4"), std::string::npos) << what;
}

}  // namespace
}  // namespace medtrain::dist
