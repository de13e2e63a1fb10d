#include "data/io/read_probes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "data/data_error.h"
#include "data/io/page_cache.h"

namespace medtrain::data::io {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int open_or_throw(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError("iobench: cannot open '" + path + "': " + std::strerror(errno));
  return fd;
}

// pread until `len` bytes or end of file; returns the bytes read.
size_t read_span(int fd, char* buf, size_t len, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DataError("iobench: cannot read '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Runs body(thread_index) on `threads` threads; rethrows the first failure.
template <class Body>
void run_threads(size_t threads, Body body) {
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex mu;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        body(t);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(std::max(rank, 1.0)) - 1);
  return values[i];
}

SmallFileResult probe_small_files(const std::vector<FileEntry>& files, const ProbeOptions& o) {
  SmallFileResult r;
  r.threads = std::max<size_t>(o.threads, 1);
  if (files.empty()) return r;
  r.cached_before = cached_fraction(files);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0};
  std::vector<std::vector<double>> latencies(r.threads);
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  run_threads(r.threads, [&](size_t t) {
    std::vector<char> buf(1u << 20);
    do {  // at least one file per thread, so that every phase has a latency
      const FileEntry& f = files[next.fetch_add(1) % files.size()];
      const auto start = Clock::now();
      const int fd = open_or_throw(f.path);
      uint64_t off = 0;
      try {
        while (size_t n = read_span(fd, buf.data(), buf.size(), off, f.path)) off += n;
      } catch (...) {
        close(fd);
        throw;
      }
      if (o.drop_caches) drop_cached_pages(fd);  // the next visit reads the NAS again
      close(fd);
      latencies[t].push_back(since(start) * 1e3);
      bytes += off;
    } while (Clock::now() < deadline);
  });
  r.seconds = since(t0);
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  r.ops = all.size();
  r.bytes = bytes.load();
  r.iops = static_cast<double>(r.ops) / r.seconds;
  r.mb_per_s = static_cast<double>(r.bytes) / 1e6 / r.seconds;
  r.mean_ms = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
  r.p50_ms = quantile(all, 0.50);
  r.p99_ms = quantile(all, 0.99);
  r.max_ms = *std::max_element(all.begin(), all.end());
  r.mean_file_bytes = static_cast<double>(r.bytes) / static_cast<double>(r.ops);
  r.reread = r.ops > files.size();
  return r;
}

// Note [Sequential regions]: thread t reads file t % F; the k threads that share
// a file each stream their own contiguous 1/k of it, so no byte is read twice
// unless a thread reaches the end of its region before time is up (then it
// starts over and `reread` is set: those bytes may come from the page cache).
SequentialResult probe_sequential(const std::vector<FileEntry>& files, const ProbeOptions& o) {
  SequentialResult r;
  r.threads = std::max<size_t>(o.threads, 1);
  r.request_bytes = std::max<size_t>(o.request_bytes, 4096);
  if (files.empty()) return r;
  r.files = std::min(files.size(), r.threads);
  r.cached_before = cached_fraction(std::vector<FileEntry>(files.begin(), files.begin() + r.files));
  if (o.drop_caches) {
    for (size_t i = 0; i < r.files; ++i) drop_cached_pages(files[i].path);
  }
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> reread{false};
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  run_threads(r.threads, [&](size_t t) {
    const FileEntry& f = files[t % r.files];
    const size_t sharing = (r.threads - t % r.files + r.files - 1) / r.files;  // threads on this file
    const uint64_t region = f.bytes / sharing, begin = region * (t / r.files), end = begin + region;
    std::vector<char> buf(r.request_bytes);
    const int fd = open_or_throw(f.path);
    posix_fadvise(fd, static_cast<off_t>(begin), static_cast<off_t>(region), POSIX_FADV_SEQUENTIAL);
    uint64_t off = begin, mine = 0;
    try {
      do {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(r.request_bytes, end - off));
        const size_t n = read_span(fd, buf.data(), want, off, f.path);
        off += n, mine += n;
        if (n == 0 || off >= end) {  // see Note [Sequential regions]
          if (o.drop_caches) {
            posix_fadvise(fd, static_cast<off_t>(begin), static_cast<off_t>(region), POSIX_FADV_DONTNEED);
          }
          off = begin;
        }
      } while (Clock::now() < deadline);
    } catch (...) {
      close(fd);
      throw;
    }
    close(fd);
    bytes += mine;
    if (mine > region) reread = true;
  });
  r.seconds = since(t0);
  r.bytes = bytes.load();
  r.mb_per_s = static_cast<double>(r.bytes) / 1e6 / r.seconds;
  r.mb_per_s_per_thread = r.mb_per_s / static_cast<double>(r.threads);
  r.reread = reread.load();
  return r;
}

}  // namespace medtrain::data::io
