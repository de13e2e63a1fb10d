// Dynamic padding (Note [Ragged samples] in data/dataset.h) through BatchLoader:
// a fake ragged dataset whose sample i has length_of(i) tokens with values
// that name (sample, position), so every cell of a batch can be checked
// against a batch built here by hand: [B, longest in the batch], pad exactly
// past each sample's end, rows in index order, the same for 0, 1 and 3 workers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "data/batch_loader.h"
#include "data/data_error.h"

namespace medtrain::data {
namespace {

constexpr int64_t kInputPad = -7;    // not 0: a zero-filled row would pass as padded
constexpr int64_t kTargetPad = -100;

int64_t length_of(size_t i) { return 1 + static_cast<int64_t>((i * 5) % 9); }  // 1..9
int64_t token(size_t i, int64_t j) { return static_cast<int64_t>(i) * 100 + j + 1; }
int64_t tag(size_t i, int64_t j) { return static_cast<int64_t>(i) * 10 + j; }

class RaggedDataset : public Dataset {
 public:
  RaggedDataset(size_t n, bool per_token_target, std::set<size_t> bad = {}, std::set<size_t> liars = {})
      : n_(n), per_token_(per_token_target), bad_(std::move(bad)), liars_(std::move(liars)) {}
  size_t size() const override { return n_; }
  Sample get(size_t i, uint64_t /*seed*/) const override {
    std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 200));  // finish out of order
    if (bad_.count(i)) throw DataError(describe(i) + ": unreadable");
    const int64_t len = length_of(i) + (liars_.count(i) ? 5 : 0);  // a liar is longer than length() says
    Sample s;
    s.image = torch::empty({len}, torch::kInt64);
    s.target = per_token_ ? torch::empty({len}, torch::kInt64) : torch::scalar_tensor(int64_t(i), torch::kInt64);
    for (int64_t j = 0; j < len; ++j) {
      s.image[j] = token(i, j);
      if (per_token_) s.target[j] = tag(i, j);
    }
    return s;
  }
  std::string describe(size_t i) const override { return "ragged/" + std::to_string(i); }
  int64_t label(size_t) const override { return 0; }
  RaggedLayout ragged() const override {
    RaggedLayout r;
    r.ragged = true;
    r.ragged_target = per_token_;
    r.input_pad = kInputPad;
    r.target_pad = kTargetPad;
    return r;
  }
  int64_t length(size_t i) const override { return length_of(i); }

 private:
  size_t n_;
  bool per_token_;
  std::set<size_t> bad_, liars_;
};

LoaderOptions opts(size_t batch, size_t workers, OnError on_error = OnError::kFail) {
  LoaderOptions o;
  o.batch_size = batch;
  o.workers = workers;
  o.prefetch_batches = 2;
  o.on_error = on_error;
  return o;
}

std::vector<Batch> drain(std::shared_ptr<const Dataset> ds, std::vector<size_t> idx, LoaderOptions o) {
  BatchLoader loader(std::move(ds), std::move(idx), o);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

// The batch of `rows` (dataset indices) built by hand.
std::pair<torch::Tensor, torch::Tensor> expected(const std::vector<size_t>& rows, bool per_token) {
  int64_t longest = 0;
  for (size_t i : rows) longest = std::max(longest, length_of(i));
  const auto n = static_cast<int64_t>(rows.size());
  auto images = torch::full({n, longest}, kInputPad, torch::kInt64);
  auto targets = per_token ? torch::full({n, longest}, kTargetPad, torch::kInt64) : torch::empty({n}, torch::kInt64);
  for (int64_t r = 0; r < n; ++r) {
    const size_t i = rows[r];
    for (int64_t j = 0; j < length_of(i); ++j) {
      images[r][j] = token(i, j);
      if (per_token) targets[r][j] = tag(i, j);
    }
    if (!per_token) targets[r] = static_cast<int64_t>(i);
  }
  return {images, targets};
}

std::vector<size_t> shuffled(size_t n) {
  std::vector<size_t> v;
  for (size_t i = 0; i < n; ++i) v.push_back((i * 17 + 5) % n);
  return v;
}

class RaggedBatches : public ::testing::TestWithParam<bool> {};  // per-token targets?

TEST_P(RaggedBatches, PaddedToTheLongestOfEachBatchInIndexOrderForAnyWorkerCount) {
  const bool per_token = GetParam();
  auto ds = std::make_shared<RaggedDataset>(23, per_token);
  const auto idx = shuffled(23);
  std::vector<std::vector<Batch>> runs;
  for (size_t workers : {0u, 1u, 3u}) {
    const auto batches = drain(ds, idx, opts(5, workers));
    ASSERT_EQ(batches.size(), 5u) << workers << " workers";
    for (size_t b = 0; b < batches.size(); ++b) {
      const std::vector<size_t> rows(idx.begin() + b * 5, idx.begin() + std::min<size_t>(idx.size(), b * 5 + 5));
      const auto [images, targets] = expected(rows, per_token);
      EXPECT_EQ(batches[b].images.sizes(), images.sizes()) << "batch " << b << ", " << workers << " workers";
      EXPECT_EQ(batches[b].targets.sizes(), targets.sizes()) << "batch " << b << ", " << workers << " workers";
      EXPECT_EQ(batches[b].images.scalar_type(), torch::kInt64);
      EXPECT_EQ(batches[b].targets.scalar_type(), torch::kInt64);
      EXPECT_TRUE(torch::equal(batches[b].images, images)) << "batch " << b << ", " << workers << " workers\n"
                                                           << batches[b].images << "\nexpected\n" << images;
      EXPECT_TRUE(torch::equal(batches[b].targets, targets)) << "batch " << b << ", " << workers << " workers";
      EXPECT_EQ(batches[b].skipped, 0u);
    }
    runs.push_back(batches);
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    for (size_t b = 0; b < runs[0].size(); ++b) {
      EXPECT_TRUE(torch::equal(runs[0][b].images, runs[r][b].images)) << "run " << r << " batch " << b;
      EXPECT_TRUE(torch::equal(runs[0][b].targets, runs[r][b].targets)) << "run " << r << " batch " << b;
    }
  }
}

TEST_P(RaggedBatches, SkippingOneSampleKeepsTheOthersIntact) {
  const bool per_token = GetParam();
  // Lengths: 0 -> 1, 3 -> 7 (skipped), 7 -> 9, 2 -> 2 | 12 -> 7, 5 -> 8, 9 -> 1, 1 -> 6.
  const std::vector<size_t> idx{0, 3, 7, 2, 12, 5, 9, 1};
  for (size_t workers : {0u, 1u, 3u}) {
    auto ds = std::make_shared<RaggedDataset>(16, per_token, std::set<size_t>{3});
    BatchLoader loader(ds, idx, opts(4, workers, OnError::kSkip));
    auto first = loader.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->skipped, 1u);
    const auto [images, targets] = expected({0, 7, 2}, per_token);
    // Rows of the kept samples, each exactly as its sample was (the batch may
    // be no wider than the longest of all its samples, skipped ones included).
    ASSERT_EQ(first->images.size(0), 3);
    ASSERT_GE(first->images.size(1), images.size(1));
    EXPECT_TRUE(torch::equal(first->images.narrow(1, 0, images.size(1)), images)) << first->images;
    EXPECT_TRUE((first->images.narrow(1, images.size(1), first->images.size(1) - images.size(1)) == kInputPad)
                    .all()
                    .item<bool>());
    if (per_token) {
      EXPECT_TRUE(torch::equal(first->targets.narrow(1, 0, targets.size(1)), targets)) << first->targets;
    } else {
      EXPECT_TRUE(torch::equal(first->targets, targets)) << first->targets;
    }
    auto second = loader.next();
    ASSERT_TRUE(second);
    const auto [images2, targets2] = expected({12, 5, 9, 1}, per_token);
    EXPECT_TRUE(torch::equal(second->images, images2)) << workers << " workers";
    EXPECT_TRUE(torch::equal(second->targets, targets2)) << workers << " workers";
    EXPECT_FALSE(loader.next());
    EXPECT_EQ(loader.skipped_total(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, RaggedBatches, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "PerToken" : "Scalar"; });

// Note [Ragged samples]: "the loader pads each batch to its longest sample".
// After a skip, the batch is still as wide as the skipped sample was: here the
// skipped sample (length 9) is the longest, the kept ones are at most 2 long.
// A skipped sample does not set the batch's width (found failing on 3da4f65: the
// batch kept the skipped sample's columns, all padding).
TEST(RaggedLoader, AfterASkipTheBatchIsAsWideAsItsLongestKeptSample) {
  // lengths: 0 -> 1, 7 -> 9, 2 -> 2 (((2*5)%9)+1).
  auto ds = std::make_shared<RaggedDataset>(16, true, std::set<size_t>{7});
  const auto batches = drain(ds, {0, 7, 2}, opts(3, 0, OnError::kSkip));
  ASSERT_EQ(batches.size(), 1u);
  const auto [images, targets] = expected({0, 2}, true);
  EXPECT_EQ(batches[0].images.sizes(), images.sizes());
  EXPECT_EQ(batches[0].targets.sizes(), targets.sizes());
}

TEST(RaggedLoader, ASampleLongerThanItsLengthIsADataErrorNotAnOverflow) {
  // Sample 2 says length 2 but holds 7 tokens; its batch's longest declared is 2 (with 0: 1).
  for (size_t workers : {0u, 1u, 3u}) {
    auto ds = std::make_shared<RaggedDataset>(16, true, std::set<size_t>{}, std::set<size_t>{2});
    BatchLoader loader(ds, {0, 2}, opts(2, workers));
    try {
      loader.next();
      ADD_FAILURE() << "no DataError with " << workers << " workers";
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("7"), std::string::npos) << what;  // the sample's real length shows
    }
    // Under on_error: skip too it is an error (a broken dataset, not a bad file): never silently dropped.
    BatchLoader skip(ds, {0, 2}, opts(2, workers, OnError::kSkip));
    EXPECT_THROW(skip.next(), DataError) << workers << " workers";
  }
}

// A sample longer than length() said, in a batch whose longest declared
// sample is longer still: it fits the batch, but its length was wrong, and
// whether the same sample fails must not depend on which samples share its
// batch (the shuffle).
// A sample whose length is not the one its dataset declared is refused whatever
// else is in its batch (found failing on 3da4f65: only length <= the batch width was checked).
TEST(RaggedLoader, ASampleLongerThanItsLengthFailsWhateverItsBatch) {
  // Sample 2 says 2 holds 7; sample 7 says 9: the batch is 9 wide.
  auto ds = std::make_shared<RaggedDataset>(16, true, std::set<size_t>{}, std::set<size_t>{2});
  BatchLoader loader(ds, {7, 2}, opts(2, 0));
  EXPECT_THROW(loader.next(), DataError);
}

TEST(RaggedLoader, RowsNeverOverrunIntoTheNextSample) {
  // Many short batches, many workers: every pad cell of every batch is pad.
  auto ds = std::make_shared<RaggedDataset>(64, true);
  std::vector<size_t> idx(64);
  for (size_t i = 0; i < 64; ++i) idx[i] = (i * 37 + 11) % 64;
  const auto batches = drain(ds, idx, opts(7, 3));
  size_t b = 0, seen = 0;
  for (const auto& batch : batches) {
    for (int64_t r = 0; r < batch.images.size(0); ++r, ++seen) {
      const size_t i = idx[b * 7 + r];
      const int64_t len = length_of(i);
      const auto row = batch.images[r];
      EXPECT_TRUE((row.narrow(0, len, row.size(0) - len) == kInputPad).all().item<bool>()) << "sample " << i;
      EXPECT_EQ(row[len - 1].item<int64_t>(), token(i, len - 1)) << "sample " << i;
    }
    ++b;
  }
  EXPECT_EQ(seen, 64u);
}

}  // namespace
}  // namespace medtrain::data
