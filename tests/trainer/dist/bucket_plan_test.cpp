// plan_buckets: checked against its definition on hand-made parameter lists.
#include "trainer/dist/bucket_plan.h"

#include <gtest/gtest.h>

namespace medtrain::dist {
namespace {

std::vector<ParamSlot> floats(std::vector<int64_t> numels) {
  std::vector<ParamSlot> out;
  for (auto n : numels) out.push_back({n, 4, "float"});
  return out;
}

TEST(BucketPlan, ReverseOrderSmallFirstBucketThenCap) {
  // 4-byte floats; first bucket 40 bytes, others 100 bytes.
  const auto plan = plan_buckets(floats({5, 5, 20, 5, 5, 8, 2}), {40, 100});
  // Reverse order: 6(8B) 5(32B) = 40 | 4(20B) 3(20B), + 2(80B) would be 120 |
  // 2(80B) 1(20B) = 100 | 0(20B).
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0], (std::vector<size_t>{6, 5}));
  EXPECT_EQ(plan[1], (std::vector<size_t>{4, 3}));
  EXPECT_EQ(plan[2], (std::vector<size_t>{2, 1}));
  EXPECT_EQ(plan[3], (std::vector<size_t>{0}));
}

TEST(BucketPlan, EveryParameterExactlyOnce) {
  std::vector<int64_t> numels;
  for (int i = 0; i < 50; ++i) numels.push_back(1 + (i * 37) % 101);
  const auto plan = plan_buckets(floats(numels), {64, 256});
  std::vector<int> seen(numels.size(), 0);
  size_t previous = numels.size();
  for (const auto& bucket : plan) {
    for (size_t p : bucket) {
      ++seen[p];
      EXPECT_LT(p, previous) << "not in reverse registration order";
      previous = p;
    }
  }
  for (int count : seen) EXPECT_EQ(count, 1);
}

TEST(BucketPlan, OversizedParameterGetsItsOwnBucket) {
  const auto plan = plan_buckets(floats({1, 1000, 1}), {16, 64});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[1], (std::vector<size_t>{1}));
}

TEST(BucketPlan, DtypesNeverMix) {
  std::vector<ParamSlot> params = {{4, 4, "float"}, {4, 2, "bf16"}, {4, 4, "float"}};
  const auto plan = plan_buckets(params, {1 << 20, 1 << 20});
  ASSERT_EQ(plan.size(), 3u);
  for (const auto& b : plan) EXPECT_EQ(b.size(), 1u);
}

TEST(BucketPlan, EmptyModel) { EXPECT_TRUE(plan_buckets({}, {}).empty()); }

}  // namespace
}  // namespace medtrain::dist
