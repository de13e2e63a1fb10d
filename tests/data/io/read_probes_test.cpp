// The probes count what they read, and quantile() is nearest-rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <cmath>
#include <random>

#include "data/data_error.h"
#include "data/io/file_survey.h"
#include "data/io/page_cache.h"
#include "data/io/read_probes.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::io {
namespace {

using testing::TempDir;

TEST(Quantile, MatchesNearestRankByBruteForce) {
  std::mt19937 rng(3);
  for (size_t n : {1u, 2u, 7u, 100u, 101u}) {
    std::vector<double> v(n);
    for (auto& x : v) x = std::uniform_real_distribution<double>(0, 10)(rng);
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.0, 0.01, 0.5, 0.99, 1.0}) {
      // Nearest rank: the smallest value with at least q*n values <= it.
      double expected = sorted.back();
      for (double x : sorted) {
        const auto at_most = std::count_if(v.begin(), v.end(), [&](double y) { return y <= x; });
        if (static_cast<double>(at_most) >= q * static_cast<double>(n)) {
          expected = x;
          break;
        }
      }
      EXPECT_EQ(quantile(v, q), expected) << "n=" << n << " q=" << q;
    }
  }
  EXPECT_EQ(quantile({}, 0.5), 0.0);
}

TEST(SmallFileProbe, ReadsWholeFilesAndCountsThem) {
  TempDir dir("probe_small");
  std::vector<FileEntry> files;
  for (int i = 0; i < 6; ++i) {
    files.push_back({dir.write("f" + std::to_string(i), std::string(3000, 'a')).string(), 3000});
  }
  ProbeOptions o;
  o.threads = 3;
  o.seconds = 0.02;
  const SmallFileResult r = probe_small_files(files, o);
  EXPECT_EQ(r.threads, 3u);
  EXPECT_GE(r.ops, 3u);  // at least one file per thread
  EXPECT_EQ(r.bytes, r.ops * 3000);
  EXPECT_EQ(r.mean_file_bytes, 3000.0);
  EXPECT_GT(r.p50_ms, 0.0);
  EXPECT_LE(r.p50_ms, r.p99_ms);
  EXPECT_LE(r.p99_ms, r.max_ms);
  EXPECT_EQ(r.reread, r.ops > files.size());
}

TEST(SmallFileProbe, VanishedFileIsNamed) {
  TempDir dir("probe_gone");
  std::vector<FileEntry> files{{dir.str("gone.dcm"), 10}};
  try {
    probe_small_files(files, ProbeOptions{});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("gone.dcm"), std::string::npos) << e.what();
  }
}

TEST(SequentialProbe, ThreadsReadDisjointRegionsBeforeRepeating) {
  TempDir dir("probe_seq");
  const uint64_t size = 8ull << 20;
  std::vector<FileEntry> files{{dir.write("big", std::string(size, 'b')).string(), size}};
  ProbeOptions o;
  o.threads = 2;
  o.seconds = 0.0;  // one request per thread: no thread can reach the end of its 4 MiB half
  o.request_bytes = 1u << 20;
  const SequentialResult r = probe_sequential(files, o);
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(r.bytes, 2u << 20);  // one 1 MiB request per thread
  EXPECT_FALSE(r.reread);
  EXPECT_GT(r.mb_per_s, 0.0);
}

TEST(PageCache, ResidencyFollowsReadsAndDrops) {
  TempDir dir("page_cache");
  dir.write("probe", "x");
  if (survey_files(dir.str()).fs_type == "tmpfs") GTEST_SKIP() << "tmpfs pages are the storage: nothing to drop";
  const auto file = dir.write("f", std::string(1 << 20, 'c')).string();
  std::string back(1 << 20, '\0');
  std::ifstream(file, std::ios::binary).read(back.data(), static_cast<std::streamsize>(back.size()));
  const auto before = cached_fraction(file);
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(*before, 0.9);  // just written and read back: resident
  ::sync();  // dirty pages cannot be dropped
  ASSERT_TRUE(drop_cached_pages(file));
  const auto after = cached_fraction(file);
  ASSERT_TRUE(after.has_value());
  EXPECT_LT(*after, 0.5) << "posix_fadvise(DONTNEED) left the file cached";
  EXPECT_FALSE(cached_fraction(dir.str("missing")).has_value());
}

}  // namespace
}  // namespace medtrain::data::io
