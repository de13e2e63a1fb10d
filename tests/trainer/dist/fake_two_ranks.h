#pragma once
// A fake two-rank communicator for reducer tests: the "other rank" contributes
// 3x this rank's tensor, so a sum is 4x and a mean 2x the local values, once
// per collective (reducing twice or not at all shows).
#include <gtest/gtest.h>

#include <vector>

#include "trainer/dist/communicator.h"

namespace medtrain::dist::testing {

class DoneWork : public Work {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class FakeTwoRanks : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string backend() const override { return "fake"; }
  std::shared_ptr<Work> allreduce_async(at::Tensor& t, ReduceOp op) override {
    EXPECT_NE(op, ReduceOp::kMax);
    launched.push_back(t.numel());
    ops.push_back(op);
    t.mul_(4);                           // mine + 3 * mine
    if (op == ReduceOp::kAvg) t.div_(2);  // over 2 ranks
    return std::make_shared<DoneWork>();
  }
  void broadcast(at::Tensor&, int) override {}
  at::Tensor allgather(const at::Tensor& t) override { return at::cat({t, t}); }
  void barrier() override {}
  std::vector<int64_t> launched;
  std::vector<ReduceOp> ops;
};

}  // namespace medtrain::dist::testing
