// BatchLoader under storage faults (Note [Storage faults in the loader]): a
// dataset that fails some reads transiently, for ever, or hangs. Retried
// samples give the same batches as a fault-free loader; the counts say what
// happened; a sample that stays unreadable follows on_error; a hung read ends
// next() with an error naming the file instead of a wait for ever.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "data/batch_loader.h"
#include "data/data_error.h"

namespace medtrain::data {
namespace {

// Sample i is the constant image i. failures[i] = how many reads of i fail
// with TransientReadError first (-1: all of them); hang: get(hang) blocks
// until release().
class FaultyDataset : public Dataset {
 public:
  FaultyDataset(size_t n, std::map<size_t, int> failures, size_t hang = SIZE_MAX)
      : n_(n), failures_(std::move(failures)), hang_(hang) {}
  size_t size() const override { return n_; }
  Sample get(size_t i, uint64_t) const override {
    {
      std::unique_lock<std::mutex> lk(mu_);
      const int attempt = ++attempts_[i];
      auto it = failures_.find(i);
      if (it != failures_.end() && (it->second < 0 || attempt <= it->second)) {
        throw io::TransientReadError(describe(i) + ": cannot read: Input/output error");
      }
      if (i == hang_) cv_.wait(lk, [&] { return released_; });
    }
    Sample s;
    s.image = torch::full({1, 2, 2}, static_cast<float>(i));
    s.target = torch::scalar_tensor(static_cast<int64_t>(i), torch::kInt64);
    return s;
  }
  std::string describe(size_t i) const override { return "nas/p" + std::to_string(i) + ".dcm"; }
  int64_t label(size_t) const override { return 0; }
  int attempts(size_t i) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = attempts_.find(i);
    return it == attempts_.end() ? 0 : it->second;
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  size_t n_;
  std::map<size_t, int> failures_;
  size_t hang_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::map<size_t, int> attempts_;
  bool released_ = false;
};

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

LoaderOptions fast_retries(size_t workers, OnError on_error = OnError::kFail) {
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = workers;
  o.on_error = on_error;
  o.retry.backoff_ms = 1;
  return o;
}

std::vector<int64_t> targets_of(const std::shared_ptr<FaultyDataset>& ds, LoaderOptions o) {
  BatchLoader loader(ds, iota(ds->size()), o);
  std::vector<int64_t> out;
  while (auto b = loader.next()) {
    for (int64_t r = 0; r < b->targets.size(0); ++r) out.push_back(b->targets[r].item<int64_t>());
  }
  return out;
}

TEST(LoaderReadFaults, TransientFailuresAreRetriedAndCounted) {
  for (size_t workers : {size_t{0}, size_t{1}, size_t{3}}) {
    auto ds = std::make_shared<FaultyDataset>(12, std::map<size_t, int>{{2, 1}, {7, 3}, {11, 2}});
    auto o = fast_retries(workers);
    o.read_counters = std::make_shared<ReadCounters>();
    EXPECT_EQ(targets_of(ds, o), targets_of(std::make_shared<FaultyDataset>(12, std::map<size_t, int>{}), o));
    EXPECT_EQ(o.read_counters->retries.load(), 1u + 3u + 2u) << "workers " << workers;  // the fault-free run adds none
    EXPECT_EQ(ds->attempts(7), 4);
    EXPECT_EQ(o.read_counters->skipped.load(), 0u);
  }
}

TEST(LoaderReadFaults, ASampleThatStaysUnreadableFailsNamingIt) {
  auto ds = std::make_shared<FaultyDataset>(12, std::map<size_t, int>{{5, -1}});
  auto o = fast_retries(2);
  o.retry.retries = 2;
  BatchLoader loader(ds, iota(12), o);
  ASSERT_TRUE(loader.next());
  try {
    loader.next();
    FAIL() << "no error";
  } catch (const io::TransientReadError& e) {
    EXPECT_STREQ(e.what(), "nas/p5.dcm: cannot read: Input/output error (still, after data.read_retries = 2 retries)");
  }
  EXPECT_EQ(ds->attempts(5), 3);  // the read and 2 retries
  EXPECT_EQ(loader.read_counters().retries.load(), 2u);
}

TEST(LoaderReadFaults, UnderSkipItIsSkippedAndCounted) {
  auto ds = std::make_shared<FaultyDataset>(12, std::map<size_t, int>{{5, -1}, {9, 1}});
  auto o = fast_retries(2, OnError::kSkip);
  BatchLoader loader(ds, iota(12), o);
  std::vector<int64_t> seen;
  size_t skipped = 0;
  while (auto b = loader.next()) {
    skipped += b->skipped;
    for (int64_t r = 0; r < b->targets.size(0); ++r) seen.push_back(b->targets[r].item<int64_t>());
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(skipped, 1u);
  EXPECT_EQ(loader.read_counters().skipped.load(), 1u);
  EXPECT_EQ(loader.read_counters().retries.load(), 3u + 1u);
}

TEST(LoaderReadFaults, AHungReadEndsNextNamingTheFile) {
  auto ds = std::make_shared<FaultyDataset>(12, std::map<size_t, int>{}, /*hang=*/6);
  auto o = fast_retries(2);
  o.read_timeout_s = 0.05;
  {
    BatchLoader loader(ds, iota(12), o);
    ASSERT_TRUE(loader.next());
    try {
      loader.next();
      FAIL() << "no error";
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("nas/p6.dcm: reading it has taken more than data.read_timeout_s = 0.05 s", 0), 0u)
          << what;
    }
    EXPECT_THROW(loader.next(), DataError);  // sticky
  }  // the destructor returns although the read still hangs
  ds->release();
}

}  // namespace
}  // namespace medtrain::data
