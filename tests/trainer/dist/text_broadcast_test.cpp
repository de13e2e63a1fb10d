// broadcast_text: rank 0's text (a checkpoint's outcome) reaches the other
// ranks whole; the other ranks' own text is ignored; an over-long text is cut.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "trainer/dist/text_broadcast.h"

namespace medtrain::dist {
namespace {

// Two ranks played in turn: the root's broadcast buffer is kept and handed to
// the non-root rank's call, as a real broadcast would.
class RecordedBroadcast : public Communicator {
 public:
  int rank_ = 0;
  at::Tensor sent;
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  std::string backend() const override { return "recorded"; }
  std::shared_ptr<Work> allreduce_async(at::Tensor&, ReduceOp) override { return nullptr; }
  void broadcast(at::Tensor& t, int root) override {
    if (rank_ == root) {
      sent = t.clone();
    } else {
      ASSERT_TRUE(sent.defined());
      ASSERT_EQ(sent.sizes(), t.sizes());
      t.copy_(sent);
    }
  }
  at::Tensor allgather(const at::Tensor& t) override { return t; }
  void barrier() override {}
};

std::string round_trip(const std::string& root_text, const std::string& other_text) {
  RecordedBroadcast comm;
  comm.rank_ = 0;
  EXPECT_EQ(broadcast_text(comm, root_text, 0, c10::kCPU), root_text.substr(0, kMaxBroadcastText));
  comm.rank_ = 1;
  return broadcast_text(comm, other_text, 0, c10::kCPU);
}

TEST(BroadcastText, TheRootsTextReachesTheOtherRank) {
  const std::string error = "cannot write /r/ckpt/.tmp-step-00000006-7/model.safetensors: No space left on device\n"
                            "/r/ckpt/step-00000003";
  EXPECT_EQ(round_trip(error, "ignored"), error);
  EXPECT_EQ(round_trip("", "not empty"), "");  // rank 0 succeeded: nothing to say
  EXPECT_EQ(round_trip(std::string("a\0b", 3), ""), std::string("a\0b", 3));
}

TEST(BroadcastText, ALongTextIsCut) {
  const std::string text(kMaxBroadcastText + 100, 'x');
  EXPECT_EQ(round_trip(text, ""), text.substr(0, kMaxBroadcastText));
}

}  // namespace
}  // namespace medtrain::dist
