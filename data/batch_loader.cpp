#include "data/batch_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>

#include "data/data_error.h"
#include "data/dicom/raw_sample.h"
#include "data/io/user_file.h"
#include "data/rng.h"

namespace medtrain::data {

uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t index) {
  return mix_seed(mix_seed(seed, static_cast<uint64_t>(epoch)), index);
}

// Note [Loader order]: samples are tasks numbered by their position in
// `indices`; workers claim them in increasing order, but only inside a window of
// prefetch_batches batches past the one the consumer waits for, and write each
// result into its batch's slot. next() takes slots strictly in batch order, so
// the batches do not depend on thread count or timing. A slot is erased only by
// the consumer once all its tasks are done, so workers never lose their slot.
// The read-ahead thread walks the same positions from the workers' front to
// readahead_batches past their window; it only warms the dataset's cache, so
// it changes when data arrives, never what a batch holds.
//
// Note [Batches assembled by the workers]: the first sample of a batch to
// finish allocates the batch tensors (pinned when asked); each worker then
// copies its sample into its row outside the lock. The consumer only hands the
// tensors over: stacking 400 samples of 224x224 on the training thread took
// longer than the emulated step of an H100. Rows of skipped samples are
// dropped at hand-over (the rare path).
//
// Note [Raw samples in a batch]: raw image samples (data/dicom/raw_sample.h)
// go to rows of their own tensors (stored values and parameters). A batch
// whose kept samples are all raw hands those over; one that mixes them with
// float samples (a file of another size in a raw run, say) turns its raw rows
// into the float images the CPU chain makes (finish_raw), at hand-over.
//
// Note [Read watchdog]: a read() blocked on a hung NAS cannot be cancelled, so
// each worker marks what it reads and since when (under the lock it takes
// anyway to claim a task), and the consumer, which waits for that batch,
// wakes a few times per timeout to look at the marks. A read past
// read_timeout_s becomes a DataError naming the file; the workers are then
// left behind (they share this Impl), so the job can end at once. Retries
// restart the clock: the timeout is per attempt, the back-off is not counted.
struct BatchLoader::Impl {
  using Clock = std::chrono::steady_clock;
  struct Slot {
    size_t len = 0;
    int64_t padded = 0;             // ragged datasets: the longest sample of the batch
    torch::Tensor images, targets;  // [len, ...], allocated by the first sample stored
    torch::Tensor raw, params;      // Note [Raw samples in a batch]: allocated by the first raw sample
    std::vector<bool> kept;         // row r holds a sample
    std::vector<bool> is_raw;       // row r's sample is in raw/params, not images
    std::vector<int64_t> lengths;   // ragged datasets: row r's sample length
    size_t remaining = 0;
    size_t skipped = 0;
    std::exception_ptr error;  // the first failing sample by position
    size_t error_pos = SIZE_MAX;
  };
  struct Outcome {
    std::optional<Sample> sample;
    std::exception_ptr error;
    bool skipped = false;
    size_t index = 0;  // into the dataset
  };
  struct Reading {  // Note [Read watchdog]: one per worker, under mu
    bool active = false;
    size_t index = 0;
    Clock::time_point since;
  };

  std::shared_ptr<const Dataset> dataset;
  RaggedLayout ragged;
  std::vector<size_t> indices;
  LoaderOptions opt;
  size_t num_batches = 0;
  size_t end = 0;  // one past the last task (sample position) served
  size_t skipped_total = 0;
  size_t carried_skips = 0;  // from batches whose samples were all skipped
  std::exception_ptr failed;  // sticky: next() keeps rethrowing it
  std::shared_ptr<ReadCounters> counters;

  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  size_t next_task = 0;
  size_t read_task = 0;   // the next position the read-ahead thread announces
  size_t next_batch = 0;  // the batch the consumer wants next
  bool stop = false;
  std::map<size_t, Slot> slots;
  std::vector<std::thread> threads;
  std::vector<Reading> reading;  // per worker
  bool abandoned = false;        // a read overran: the destructor leaves the workers behind

  // Which of a ragged batch's tensors are padded (Note [Ragged samples]).
  bool ragged_input() const { return ragged.ragged && !ragged.fixed_input; }
  bool ragged_targets() const { return ragged.ragged && (ragged.ragged_target || ragged.fixed_input); }

  size_t batch_len(size_t b) const { return std::min(opt.batch_size, end - b * opt.batch_size); }

  // Before read attempt `retry` + 1 of worker w's sample (w < 0: the consumer
  // decodes): counts, waits the back-off unless the loader stops meanwhile,
  // and restarts the watchdog's clock (Note [Read watchdog]).
  bool before_retry(int retry, int w) {
    counters->retries.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lk(mu);
    if (work_cv.wait_for(lk, io::retry_delay(opt.retry, retry), [&] { return stop; })) return false;
    if (w >= 0) reading[static_cast<size_t>(w)].since = Clock::now();
    return true;
  }

  Outcome decode(size_t t, int w) {
    Outcome o;
    o.index = indices[t];
    try {
      o.sample = io::with_read_retries(
          opt.retry, [&] { return dataset->get(indices[t], sample_seed(opt.seed, opt.epoch, indices[t])); },
          [&](int retry, const io::TransientReadError&) { return before_retry(retry, w); });
    } catch (const io::TransientReadError& e) {  // still failing after the retries
      if (opt.on_error == OnError::kSkip) {
        o.skipped = true;
        counters->skipped.fetch_add(1, std::memory_order_relaxed);
      } else {
        o.error = std::make_exception_ptr(io::TransientReadError(
            fmt::format("{} (still, after data.read_retries = {} retries)", e.what(), opt.retry.retries)));
      }
    } catch (const DataError&) {
      if (opt.on_error == OnError::kSkip) {
        o.skipped = true;
      } else {
        o.error = std::current_exception();
      }
    } catch (...) {  // not a data problem (a bug, out of memory): never skipped
      o.error = std::current_exception();
    }
    return o;
  }

  void init_slot(Slot& s, size_t b) const {
    s.len = batch_len(b);
    s.kept.assign(s.len, false);
    s.is_raw.assign(s.len, false);
    s.remaining = s.len;
    if (!ragged.ragged) return;
    s.lengths.assign(s.len, 0);
    for (size_t i = 0; i < s.len; ++i) {
      s.padded = std::max(s.padded, dataset->length(indices[b * opt.batch_size + i]));
    }
  }

  Slot& slot_for(size_t b) {
    auto [it, fresh] = slots.try_emplace(b);
    if (fresh) init_slot(it->second, b);
    return it->second;
  }

  // [len, part...]; padded >= 0: [len, padded, part[1:]...] filled with `pad`.
  torch::Tensor batch_tensor(const torch::Tensor& part, size_t len, int64_t padded = -1, int64_t pad = 0) const {
    auto sizes = part.sizes().vec();
    if (padded >= 0 && !sizes.empty()) sizes[0] = padded;
    sizes.insert(sizes.begin(), static_cast<int64_t>(len));
    auto options = part.options();
    if (opt.pin_memory) options = options.pinned_memory(true);
    return padded >= 0 ? at::full(sizes, pad, options) : at::empty(sizes, options);
  }

  // The rows a sample must fit: all of a row, or for ragged data all but its
  // length, which must be the one the dataset declared for it.
  bool fits(const torch::Tensor& part, const torch::Tensor& batch, bool ragged_dim, int64_t declared) const {
    const auto row = batch.sizes().slice(1);
    if (!ragged_dim) return part.sizes() == row;
    return part.dim() == static_cast<int64_t>(row.size()) && part.dim() >= 1 && part.size(0) == declared &&
           part.sizes().slice(1) == row.slice(1);
  }

  // Under the lock: the slot's tensors exist and fit the sample, else the
  // outcome becomes the error the old stack-at-the-end gave.
  void prepare_row(Slot& s, Outcome& o) const {
    if (!o.sample) return;
    const bool ri = ragged_input(), rt = ragged_targets();
    if (!s.targets.defined()) s.targets = batch_tensor(o.sample->target, s.len, rt ? s.padded : -1, ragged.target_pad);
    if (o.sample->preprocess.defined()) {
      if (!s.raw.defined()) {
        s.raw = batch_tensor(o.sample->image, s.len);
        s.params = batch_tensor(o.sample->preprocess, s.len);
      }
      const bool same = o.sample->image.sizes() == s.raw.sizes().slice(1) && o.sample->image.dtype() == s.raw.dtype();
      if (same && fits(o.sample->target, s.targets, rt, 0)) return;  // a raw row
      // Another stored type (int16 / uint16) than the batch's raw rows: a
      // float row; a bad target: the checks below say so as for any sample.
      o.sample->image = finish_raw(o.sample->image, o.sample->preprocess);
      o.sample->preprocess = torch::Tensor();
    }
    if (!s.images.defined()) s.images = batch_tensor(o.sample->image, s.len, ri ? s.padded : -1, ragged.input_pad);
    const auto row_of = [](const torch::Tensor& t) { return t.sizes().slice(1); };
    const int64_t declared = ragged.ragged ? dataset->length(o.index) : 0;
    const torch::Tensor& measured = ragged.fixed_input ? o.sample->target : o.sample->image;
    if (ragged.ragged && (measured.dim() < 1 || measured.size(0) != declared)) {
      o.error = std::make_exception_ptr(DataError(
          "batch: " + dataset->describe(o.index) + " has length " +
          std::to_string(measured.dim() < 1 ? 0 : measured.size(0)) + " but its dataset declared " +
          std::to_string(declared) + " (a dataset bug)"));
    } else if (!fits(o.sample->image, s.images, ri, declared)) {
      o.error = std::make_exception_ptr(DataError("batch: samples have different image shapes " +
                                                  c10::str(row_of(s.images)) + " and " +
                                                  c10::str(o.sample->image.sizes()) + "; resize them to one size"));
    } else if (!fits(o.sample->target, s.targets, rt, declared)) {
      o.error = std::make_exception_ptr(DataError("batch: samples have different target shapes " +
                                                  c10::str(row_of(s.targets)) + " and " +
                                                  c10::str(o.sample->target.sizes())));
    }
    if (o.error) o.sample.reset();
  }

  // Outside the lock: each row is written by exactly one worker.
  void copy_row(Slot& s, size_t pos, const Outcome& o) const {
    if (!o.sample) return;
    const auto row = static_cast<int64_t>(pos);
    auto into = [&](torch::Tensor dst, const torch::Tensor& src, bool ragged_dim) {
      if (ragged_dim) dst = dst.narrow(0, 0, src.size(0));
      dst.copy_(src);
    };
    if (o.sample->preprocess.defined()) {
      s.raw[row].copy_(o.sample->image);
      s.params[row].copy_(o.sample->preprocess);
    } else {
      into(s.images[row], o.sample->image, ragged_input());
    }
    into(s.targets[row], o.sample->target, ragged_targets());
    if (ragged.ragged) s.lengths[pos] = (ragged.fixed_input ? o.sample->target : o.sample->image).size(0);
  }

  static void store(Slot& s, size_t pos, const Outcome& o) {
    if (o.error && pos < s.error_pos) s.error = o.error, s.error_pos = pos;
    s.skipped += o.skipped ? 1 : 0;
    s.kept[pos] = o.sample.has_value();
    s.is_raw[pos] = o.sample && o.sample->preprocess.defined();
    --s.remaining;
  }

  void work(size_t w) {
    std::unique_lock<std::mutex> lk(mu);
    const size_t window = std::max<size_t>(opt.prefetch_batches, 1);
    for (;;) {
      work_cv.wait(lk, [&] {
        return stop || (next_task < end && next_task / opt.batch_size < next_batch + window);
      });
      if (stop) return;
      const size_t t = next_task++, b = t / opt.batch_size, pos = t - b * opt.batch_size;
      Slot& s = slot_for(b);  // std::map: the reference outlives other slots' insertions
      reading[w] = {true, indices[t], Clock::now()};
      lk.unlock();
      Outcome o = decode(t, static_cast<int>(w));
      lk.lock();
      reading[w].active = false;
      prepare_row(s, o);
      lk.unlock();
      copy_row(s, pos, o);
      lk.lock();
      store(s, pos, o);
      if (s.remaining == 0) done_cv.notify_all();
    }
  }

  void read_ahead() {
    std::unique_lock<std::mutex> lk(mu);
    const size_t window = std::max<size_t>(opt.prefetch_batches, 1) + opt.readahead_batches;
    for (;;) {
      work_cv.wait(lk, [&] {
        read_task = std::max(read_task, next_task);  // what workers claimed, they read themselves
        return stop || (read_task < end && read_task / opt.batch_size < next_batch + window);
      });
      if (stop) return;
      const size_t index = indices[read_task++];
      lk.unlock();
      try {
        dataset->prefetch(index);
      } catch (...) {  // get() reports it, with its sample
      }
      lk.lock();
    }
  }

  Slot take(size_t b) {
    if (threads.empty()) {  // workers == 0: decode here, in order
      Slot s;
      init_slot(s, b);
      for (size_t i = 0; i < s.len; ++i) {
        Outcome o = decode(b * opt.batch_size + i, -1);
        prepare_row(s, o);
        copy_row(s, i, o);
        store(s, i, o);
      }
      ++next_batch;
      return s;
    }
    std::unique_lock<std::mutex> lk(mu);
    const auto ready = [&] {
      auto it = slots.find(b);
      return it != slots.end() && it->second.remaining == 0;
    };
    if (opt.read_timeout_s > 0) {
      // Note [Read watchdog]: a few looks per timeout, at most 2 per second.
      const auto poll = std::chrono::duration<double>(std::clamp(opt.read_timeout_s / 4, 0.01, 0.5));
      while (!done_cv.wait_for(lk, poll, ready)) check_reads();
    } else {
      done_cv.wait(lk, ready);
    }
    Slot s = std::move(slots.at(b));
    slots.erase(b);
    ++next_batch;
    work_cv.notify_all();
    return s;
  }

  // Under the lock: throws when a worker's read has overrun (Note [Read watchdog]).
  void check_reads() {
    const auto now = Clock::now();
    for (const Reading& r : reading) {
      const double s = std::chrono::duration<double>(now - r.since).count();
      if (!r.active || s <= opt.read_timeout_s) continue;
      abandoned = true;
      throw DataError(fmt::format("{}: reading it has taken more than data.read_timeout_s = {} s (the storage "
                                  "hangs?); stopping rather than waiting for ever",
                                  io::display_path(dataset->describe(r.index)), opt.read_timeout_s));
    }
  }

  // Note [Raw samples in a batch]: true when the batch goes out as stored
  // values; otherwise its raw rows are now float images.
  bool settle_raw_rows(Slot& s) const {
    if (!s.raw.defined()) return false;
    if (!s.images.defined()) return true;
    for (size_t r = 0; r < s.len; ++r) {
      const auto row = static_cast<int64_t>(r);
      if (s.kept[r] && s.is_raw[r]) s.images[row].copy_(finish_raw(s.raw[row], s.params[row]));
    }
    return false;
  }

  Batch hand_over(Slot& s) const {
    Batch batch;
    if (settle_raw_rows(s)) {
      s.images = std::move(s.raw);
      batch.preprocess = std::move(s.params);
    }
    if (s.skipped == 0) {
      batch.images = std::move(s.images);
      batch.targets = std::move(s.targets);
      return batch;
    }
    std::vector<int64_t> rows;
    for (size_t r = 0; r < s.len; ++r) {
      if (s.kept[r]) rows.push_back(static_cast<int64_t>(r));
    }
    const auto keep = torch::tensor(rows, torch::kInt64);
    torch::Tensor images = s.images, targets = s.targets;
    if (ragged.ragged) {  // as wide as the longest sample kept, not the longest asked for
      int64_t width = 0;
      for (int64_t r : rows) width = std::max(width, s.lengths[static_cast<size_t>(r)]);
      if (ragged_input()) images = images.narrow(1, 0, width);
      if (ragged_targets()) targets = targets.narrow(1, 0, width);
    }
    batch.images = batch_tensor(images[0], rows.size());  // pinned like the rest
    batch.targets = batch_tensor(targets[0], rows.size());
    at::index_select_out(batch.images, images, 0, keep);
    at::index_select_out(batch.targets, targets, 0, keep);
    if (batch.preprocess.defined()) batch.preprocess = batch.preprocess.index_select(0, keep);
    return batch;
  }
};

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices,
                         LoaderOptions options, size_t first_batch)
    : impl_(std::make_shared<Impl>()) {
  Impl& m = *impl_;
  if (!dataset) throw DataError("loader: no dataset");
  if (options.batch_size < 1) throw DataError("loader: batch_size must be >= 1 (got 0)");
  for (size_t i : indices) {
    if (i >= dataset->size()) {
      throw DataError("loader: index " + std::to_string(i) + " is outside the dataset of " +
                      std::to_string(dataset->size()) + " samples");
    }
  }
  const size_t n = indices.size(), b = options.batch_size;
  m.num_batches = options.drop_last ? n / b : (n + b - 1) / b;
  m.end = options.drop_last ? m.num_batches * b : n;
  if (first_batch > m.num_batches) {
    throw DataError("loader: resume at batch " + std::to_string(first_batch) + " but the epoch has only " +
                    std::to_string(m.num_batches) + " batches");
  }
  m.ragged = dataset->ragged();
  m.dataset = std::move(dataset);
  m.indices = std::move(indices);
  m.opt = options;
  m.next_batch = first_batch;
  m.next_task = first_batch * b;
  m.counters = m.opt.read_counters ? m.opt.read_counters : std::make_shared<ReadCounters>();
  const size_t workers = m.next_task < m.end ? options.workers : 0;
  m.reading.resize(workers);
  // The threads share the Impl: the destructor may leave them behind (Note [Read watchdog]).
  for (size_t w = 0; w < workers; ++w) m.threads.emplace_back([self = impl_, w] { self->work(w); });
  if (options.readahead_batches > 0 && workers > 0) {
    // Two: a prefetch that finds its block loading returns at once, so the
    // second thread's read overlaps the first's latency.
    for (int r = 0; r < 2; ++r) m.threads.emplace_back([self = impl_] { self->read_ahead(); });
  }
}

BatchLoader::~BatchLoader() {
  bool leave = false;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;
    leave = impl_->abandoned;
  }
  impl_->work_cv.notify_all();
  for (std::thread& t : impl_->threads) {
    if (leave) {
      t.detach();  // one may be stuck in read() for good: Note [Read watchdog]
    } else {
      t.join();  // each finishes at most its current sample
    }
  }
}

std::optional<Batch> BatchLoader::next() {
  Impl& m = *impl_;
  if (m.failed) std::rethrow_exception(m.failed);
  while (m.next_batch < m.num_batches) {
    Impl::Slot s;
    try {
      s = m.take(m.next_batch);
    } catch (...) {  // a read timeout
      m.failed = std::current_exception();
      throw;
    }
    if (s.error) {
      m.failed = s.error;
      std::rethrow_exception(s.error);
    }
    m.skipped_total += s.skipped;
    if (s.skipped == s.len) {  // nothing left of this batch: report its skips with the next
      m.carried_skips += s.skipped;
      continue;
    }
    Batch batch = m.hand_over(s);
    batch.skipped = s.skipped + m.carried_skips;
    m.carried_skips = 0;
    return batch;
  }
  return std::nullopt;
}

size_t BatchLoader::num_batches() const { return impl_->num_batches; }

size_t BatchLoader::skipped_total() const { return impl_->skipped_total; }

const ReadCounters& BatchLoader::read_counters() const { return *impl_->counters; }

}  // namespace medtrain::data
